package store

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// poolNameForbidden are the characters IIS's applicationPoolName validator
// rejects.
const poolNameForbidden = `|<>&"/[]+=;:,?*@\`

// ValidatePoolName checks a pool name as IIS does, plus control characters.
func ValidatePoolName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return invalidf("apppool", name, "name", "the name is empty")
	case len(name) > 64:
		return invalidf("apppool", name, "name", "the name is longer than 64 characters")
	case strings.ContainsAny(name, poolNameForbidden) || hasControl(name):
		return invalidf("apppool", name, "name", "the name contains a character that is not allowed: none of %s or control characters", poolNameForbidden)
	case name == "." || name == "..":
		// A pool's name names its home and log files: ".." would be the
		// directory above them.
		return invalidf("apppool", name, "name", "'.' and '..' are not pool names: pool names become file names")
	}
	return nil
}

// ValidateNewPoolName checks the name of a pool being added or renamed:
// ValidatePoolName, and no leading '-', which the command line would read
// as a parameter (poolctl set apppool -x is /x). Pools that already have
// such a name stay valid and are reached with /name:NAME.
func ValidateNewPoolName(name string) error {
	if err := ValidatePoolName(name); err != nil {
		return err
	}
	if strings.HasPrefix(name, "-") {
		return invalidf("apppool", name, "name", "the name starts with '-', which the command line reads as a parameter; choose a name that starts with another character")
	}
	return nil
}

// ValidateSiteName checks a site name: not empty, no '/', '?' or control
// characters.
func ValidateSiteName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return invalidf("site", name, "name", "the name is empty")
	case strings.ContainsAny(name, "/?") || hasControl(name):
		return invalidf("site", name, "name", "the name contains '/', '?' or a control character")
	}
	return nil
}

// ValidateURLPath checks an application or virtual directory path: it starts
// with '/', has no trailing '/' (except the root), and no empty, '.' or '..'
// segments.
func ValidateURLPath(object, id, path string) error {
	if !strings.HasPrefix(path, "/") {
		return invalidf(object, id, "path", "%q does not start with '/'", path)
	}
	if path == "/" {
		return nil
	}
	if strings.HasSuffix(path, "/") {
		return invalidf(object, id, "path", "%q ends with '/'; write it without", path)
	}
	for _, seg := range strings.Split(path[1:], "/") {
		if seg == "" || seg == "." || seg == ".." || hasControl(seg) || strings.ContainsAny(seg, `?#\`) {
			return invalidf(object, id, "path", "%q has an empty, '.' or '..' segment or a character not allowed in a path", path)
		}
	}
	return nil
}

// foldKey maps s to a key that is equal for two strings exactly when
// strings.EqualFold matches them, as the lookups (Config.Pool ...) do: each
// rune becomes the smallest rune of its simple case-folding orbit.
func foldKey(s string) string {
	if k, ok := foldASCII(s); ok {
		return k
	}
	return foldOrbits(s)
}

// foldOrbits is foldKey by the search of each rune's folding orbit, for
// any text.
func foldOrbits(s string) string {
	return strings.Map(func(r rune) rune {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		return m
	}, s)
}

// foldASCII is foldKey of ASCII text, without the search of each rune's
// folding orbit: the smallest rune of an ASCII letter's orbit is its upper
// case (the others, such as the Kelvin sign of k, are above 0x7f). ok is
// false for text with other bytes.
func foldASCII(s string) (string, bool) {
	lower := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return "", false
		}
		if 'a' <= c && c <= 'z' {
			lower = true
		}
	}
	if !lower {
		return s, true
	}
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b), true
}

// hasControl reports control characters, and text that is not valid UTF-8
// (which the store file cannot hold).
func hasControl(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// Validate checks the whole configuration: names and keys unique, values in
// range, references resolvable, bindings free of conflicts. It returns the
// first problem found.
func (c *Config) Validate() error {
	if c.Version > FormatVersion {
		return invalidf("config", "", "version", "store format %d is newer than this poolctl understands (%d); upgrade poolctl", c.Version, FormatVersion)
	}
	if err := validateSettings("config", "", HistorySchema, &c.ConfigHistory); err != nil {
		return err
	}
	if c.Host != nil {
		if err := validateSettings("config", "host", HostSchema, c.Host); err != nil {
			return err
		}
	}
	if err := validateSettings("config", "applicationPoolDefaults", PoolSchema, &c.ApplicationPoolDefaults); err != nil {
		return err
	}
	pools := make(map[string]string, len(c.ApplicationPools))
	rules := c.newPoolRules()
	for i := range c.ApplicationPools {
		p := &c.ApplicationPools[i]
		if err := ValidatePoolName(p.Name); err != nil {
			return err
		}
		key := foldKey(p.Name)
		if prev, ok := pools[key]; ok {
			return Exists("apppool", p.Name, prev)
		}
		pools[key] = p.Name
		if err := validateSettings("apppool", p.Name, PoolSchema, &p.PoolSettings); err != nil {
			return err
		}
		if err := rules.check(p); err != nil {
			return err
		}
	}
	return c.validateSites(pools)
}

// validateSettings validates every property set in root, in the schema's
// order, and returns the first error.
func validateSettings(object, id string, s *Schema, root any) error {
	rv := reflect.ValueOf(root).Elem()
	// nilAt is the field path of the last option table found unset: the
	// rows below it (a schema lists a table's rows together) are unset
	// too, and skipped without walking to them.
	var nilAt []int
	for i := range s.Fields {
		f := &s.Fields[i]
		path := f.path()
		if nilAt != nil && len(path) > len(nilAt) && slices.Equal(path[:len(nilAt)], nilAt) {
			continue
		}
		v, ok, unsetAt := getIn(rv, path)
		if !ok {
			nilAt = unsetAt
			continue
		}
		if err := f.Validate(v); err != nil {
			return PropertyError(object, id, f.Path, err)
		}
	}
	return nil
}

// getIn is Field.Get on struct value v, the row's field path given; when
// the value is unset, unsetAt is the path of the nil pointer that ends the
// walk.
func getIn(v reflect.Value, path []int) (_ any, ok bool, unsetAt []int) {
	for n, i := range path {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return nil, false, path[:n]
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil, false, path
		}
		v = v.Elem()
	}
	return copyValue(v.Interface()), true, nil
}

// poolRules checks the rules that span a pool's properties; it holds what
// every pool of one configuration shares: the rows and the values a pool
// inherits when it does not set its own.
type poolRules struct {
	idType, user, pingPath          *Field
	defIDType, defUser, defPingPath any
}

func (c *Config) newPoolRules() *poolRules {
	r := &poolRules{
		idType:   PoolSchema.Field("processModel.identityType"),
		user:     PoolSchema.Field("processModel.userName"),
		pingPath: PoolSchema.Field("processModel.pingPath"),
	}
	r.defIDType, _ = c.Effective(nil, r.idType)
	r.defUser, _ = c.Effective(nil, r.user)
	r.defPingPath, _ = c.Effective(nil, r.pingPath)
	return r
}

// effective is Config.Effective of row f for pool p, def being its value
// when p does not set it.
func effective(p *AppPool, f *Field, def any) any {
	if v, ok := f.Get(&p.PoolSettings); ok {
		return v
	}
	return def
}

// check checks the rules that span properties, on p's effective values.
func (r *poolRules) check(p *AppPool) error {
	if p.ProcessModel == nil {
		// Every rule is on processModel: a pool without one inherits all
		// three values.
		return r.checkValues(p, r.defIDType, r.defUser, r.defPingPath)
	}
	return r.checkValues(p, effective(p, r.idType, r.defIDType), effective(p, r.user, r.defUser), effective(p, r.pingPath, r.defPingPath))
}

func (r *poolRules) checkValues(p *AppPool, idType, user, pingPath any) error {
	if idType == "SpecificUser" && user == "" {
		e := invalidf("apppool", p.Name, "processModel.userName", "identityType is SpecificUser but no userName is set")
		e.Hint = "set /processModel.userName:USER, or another /processModel.identityType"
		return e
	}
	if pp := pingPath; pp != "" && pp != "tcp:" && !strings.HasPrefix(pp.(string), "/") {
		return invalidf("apppool", p.Name, "processModel.pingPath", "%q does not start with '/' (or is \"tcp:\" for a TCP-connect-only check)", pp)
	}
	return nil
}

func (c *Config) validateSites(pools map[string]string) error {
	names := map[string]string{}
	ids := map[uint64]string{}
	type owner struct{ site, proto string }
	endpoints := map[string]owner{}
	ports := map[string]owner{}
	for i := range c.Sites {
		s := &c.Sites[i]
		if err := ValidateSiteName(s.Name); err != nil {
			return err
		}
		if prev, ok := names[foldKey(s.Name)]; ok {
			return Exists("site", s.Name, prev)
		}
		names[foldKey(s.Name)] = s.Name
		if s.ID == 0 {
			return invalidf("site", s.Name, "id", "the id is 0: expected 1 to %d", uint64(maxUint32))
		}
		if prev, ok := ids[s.ID]; ok {
			return invalidf("site", s.Name, "id", "id %d is already used by site %q", s.ID, prev)
		}
		ids[s.ID] = s.Name
		if err := validateSettings("site", s.Name, SiteSchema, s); err != nil {
			return err
		}
		for _, b := range s.Bindings {
			ep, _ := ParseBindingInformation(b.BindingInformation)
			if b.Protocol == "https" && (b.CertificateFile == "" || b.KeyFile == "") {
				e := invalidf("site", s.Name, "bindings", "https/%s has no certificateFile or keyFile", b.BindingInformation)
				e.Hint = fmt.Sprintf("add them: /-bindings.[protocol='https',bindingInformation='%s'] /+bindings.[protocol='https',bindingInformation='%s',certificateFile='/path/cert.pem',keyFile='/path/key.pem']", b.BindingInformation, b.BindingInformation)
				return e
			}
			key := ep.String()
			if o, ok := endpoints[key]; ok && !strings.EqualFold(o.site, s.Name) {
				return invalidf("site", s.Name, "bindings", "%s/%s is already bound by site %q", b.Protocol, key, o.site)
			}
			endpoints[key] = owner{s.Name, b.Protocol}
			port := fmt.Sprintf("%s:%d", ep.IP, ep.Port)
			if o, ok := ports[port]; ok && o.proto != b.Protocol {
				return invalidf("site", s.Name, "bindings", "port %s is used for %s by site %q and cannot also serve %s", port, o.proto, o.site, b.Protocol)
			}
			ports[port] = owner{s.Name, b.Protocol}
		}
		if err := validateApps(s, pools); err != nil {
			return err
		}
	}
	return nil
}

func validateApps(s *Site, pools map[string]string) error {
	seen := map[string]bool{}
	for i := range s.Applications {
		a := &s.Applications[i]
		id := AppName(s.Name, a.Path)
		if err := ValidateURLPath("app", id, a.Path); err != nil {
			return err
		}
		if seen[foldKey(a.Path)] {
			return Exists("app", id, id)
		}
		seen[foldKey(a.Path)] = true
		if _, ok := pools[foldKey(a.ApplicationPool)]; !ok {
			e := invalidf("app", id, "applicationPool", "pool %q does not exist", a.ApplicationPool)
			e.Reason, e.Value = ReasonMissingPool, a.ApplicationPool
			return e
		}
		vseen := map[string]bool{}
		for _, v := range a.VirtualDirectories {
			vid := AppName(strings.TrimSuffix(id, "/"), v.Path)
			if err := ValidateURLPath("vdir", vid, v.Path); err != nil {
				return err
			}
			if v.Path == "/" {
				return invalidf("vdir", vid, "path", "the root virtual directory is the application's physicalPath; set that instead")
			}
			if other := s.App(strings.TrimSuffix(a.Path, "/") + v.Path); other != nil {
				e := invalidf("vdir", vid, "path", "the URL path belongs to application %q, so the virtual directory could never be reached", AppName(s.Name, other.Path))
				e.Hint = "pick another /path, or set that application's /physicalPath instead"
				return e
			}
			if vseen[foldKey(v.Path)] {
				return Exists("vdir", vid, vid)
			}
			vseen[foldKey(v.Path)] = true
		}
	}
	return nil
}
