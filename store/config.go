package store

import (
	"strings"
)

// DefaultPoolName is the pool that the default site uses and that 'add app'
// and 'add site' assign when no /applicationPool is given.
const DefaultPoolName = "DefaultAppPool"

// DefaultSiteName is the site a new store starts with.
const DefaultSiteName = "Default Web Site"

// Pool returns the pool with the name (case-insensitively), or nil.
func (c *Config) Pool(name string) *AppPool {
	for i := range c.ApplicationPools {
		if strings.EqualFold(c.ApplicationPools[i].Name, name) {
			return &c.ApplicationPools[i]
		}
	}
	return nil
}

// Site returns the site with the name (case-insensitively), or nil.
func (c *Config) Site(name string) *Site {
	for i := range c.Sites {
		if strings.EqualFold(c.Sites[i].Name, name) {
			return &c.Sites[i]
		}
	}
	return nil
}

// SiteByID returns the site with the id, or nil.
func (c *Config) SiteByID(id uint64) *Site {
	for i := range c.Sites {
		if c.Sites[i].ID == id {
			return &c.Sites[i]
		}
	}
	return nil
}

// NextSiteID returns one more than the highest site id.
func (c *Config) NextSiteID() uint64 {
	var max uint64
	for _, s := range c.Sites {
		if s.ID > max {
			max = s.ID
		}
	}
	return max + 1
}

// App returns the application with the path (case-insensitively), or nil.
func (s *Site) App(path string) *Application {
	for i := range s.Applications {
		if strings.EqualFold(s.Applications[i].Path, path) {
			return &s.Applications[i]
		}
	}
	return nil
}

// Vdir returns the virtual directory with the path, or nil.
func (a *Application) Vdir(path string) *VirtualDirectory {
	for i := range a.VirtualDirectories {
		if strings.EqualFold(a.VirtualDirectories[i].Path, path) {
			return &a.VirtualDirectories[i]
		}
	}
	return nil
}

// AppName is appcmd's identifier of an application: "Site/path" with the
// root application as "Site/". A path without its leading '/' (invalid, but
// named in the error that says so) still gets the separator.
func AppName(site, path string) string {
	if !strings.HasPrefix(path, "/") {
		return site + "/" + path
	}
	return site + path
}

// SplitAppName splits "Site/path" at the first slash; "Site/" is the root.
// ok is false when there is no slash.
func SplitAppName(id string) (site, path string, ok bool) {
	i := strings.IndexByte(id, '/')
	if i < 0 {
		return id, "", false
	}
	return id[:i], id[i:], true
}

// AppsUsing lists the identifiers ("Site/path") of the applications that use
// the pool.
func (c *Config) AppsUsing(pool string) []string {
	var out []string
	for _, s := range c.Sites {
		for _, a := range s.Applications {
			if strings.EqualFold(a.ApplicationPool, pool) {
				out = append(out, AppName(s.Name, a.Path))
			}
		}
	}
	return out
}

// Effective returns the value of a pool property that applies to the pool:
// its own, else applicationPoolDefaults', else the schema default. source
// tells which: "pool", "defaults" or "schema".
func (c *Config) Effective(p *AppPool, f *Field) (value any, source string) {
	if p != nil {
		if v, ok := f.Get(&p.PoolSettings); ok {
			return v, "pool"
		}
	}
	if v, ok := f.Get(&c.ApplicationPoolDefaults); ok {
		return v, "defaults"
	}
	return f.DefaultValue(), "schema"
}

// Resolved returns a copy of the pool's settings with every property filled
// in with its effective value, for the host.
func (c *Config) Resolved(p *AppPool) PoolSettings {
	var out PoolSettings
	for i := range PoolSchema.Fields {
		f := &PoolSchema.Fields[i]
		v, _ := c.Effective(p, f)
		f.Set(&out, v)
	}
	return out
}

// HistoryEnabled and friends give the effective configHistory settings.
func (c *Config) historySetting(path string) any {
	f := HistorySchema.Field(path)
	if v, ok := f.Get(&c.ConfigHistory); ok {
		return v
	}
	return f.DefaultValue()
}

// Clone returns a deep copy, through the TOML form.
func (c *Config) Clone() *Config {
	b, err := Marshal(c)
	if err != nil {
		panic(err)
	}
	out, err := Unmarshal(b)
	if err != nil {
		panic(err)
	}
	return out
}

// HostSetting returns the effective value of a host setting
// ("isolationMode", "metricsAddress"): the store's, or the schema default.
func (c *Config) HostSetting(path string) any {
	f := HostSchema.Field(path)
	if c.Host != nil {
		if v, ok := f.Get(c.Host); ok {
			return v
		}
	}
	return f.DefaultValue()
}

// LegacyIsolation reports whether the host runs in Legacy (IIS 5.0)
// isolation mode, where pools are inactive and each application runs by
// its appIsolation.
func (c *Config) LegacyIsolation() bool {
	return c.HostSetting("isolationMode") == "Legacy"
}
