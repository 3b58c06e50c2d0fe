package runstate

import "fmt"

// Site is a site's run-time state.
type Site uint8

// Site states.
const (
	SiteStopped Site = iota
	SiteStarted
)

var siteNames = [...]string{"Stopped", "Started"}

// String returns the appcmd name of the state.
func (s Site) String() string {
	if int(s) < len(siteNames) {
		return siteNames[s]
	}
	return fmt.Sprintf("Site(%d)", uint8(s))
}

// MarshalText writes the appcmd name.
func (s Site) MarshalText() ([]byte, error) {
	if int(s) >= len(siteNames) {
		return nil, fmt.Errorf("runstate: no site state %d", uint8(s))
	}
	return []byte(siteNames[s]), nil
}

// UnmarshalText reads an appcmd name.
func (s *Site) UnmarshalText(b []byte) error {
	for i, n := range siteNames {
		if n == string(b) {
			*s = Site(i)
			return nil
		}
	}
	return fmt.Errorf("runstate: %q is not a site state (want one of %v)", b, siteNames)
}
