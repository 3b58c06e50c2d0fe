package runstate

// Site is a site's run-time state.
type Site uint8

// Site states.
const (
	SiteStopped Site = iota
	SiteStarted
)

var siteNames = names{kind: "site", list: []string{"Stopped", "Started"}}

// String returns the appcmd name of the state.
func (s Site) String() string { return siteNames.of(uint8(s)) }

// MarshalText writes the appcmd name.
func (s Site) MarshalText() ([]byte, error) { return siteNames.marshal(uint8(s)) }

// UnmarshalText reads an appcmd name.
func (s *Site) UnmarshalText(b []byte) error {
	v, err := siteNames.parse(b)
	if err == nil {
		*s = Site(v)
	}
	return err
}
