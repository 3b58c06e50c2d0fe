package store

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEffective(t *testing.T) {
	tests := []struct {
		name       string
		pool       func(p *AppPool)
		defaults   func(d *PoolSettings)
		path       string
		want       string
		wantSource string
	}{
		{"schema default", nil, nil, "queueLength", "1000", "schema"},
		{"defaults over schema", nil, func(d *PoolSettings) { d.QueueLength = ptr(uint64(2000)) }, "queueLength", "2000", "defaults"},
		{"pool over defaults", func(p *AppPool) { p.QueueLength = ptr(uint64(3000)) },
			func(d *PoolSettings) { d.QueueLength = ptr(uint64(2000)) }, "queueLength", "3000", "pool"},
		{"pool over schema", func(p *AppPool) { p.QueueLength = ptr(uint64(3000)) }, nil, "queueLength", "3000", "pool"},
		{"pool false over default true", func(p *AppPool) { p.AutoStart = ptr(false) }, nil, "autoStart", "false", "pool"},
		{"pool value equal to the default still counts as set", func(p *AppPool) { p.AutoStart = ptr(true) },
			func(d *PoolSettings) { d.AutoStart = ptr(false) }, "autoStart", "true", "pool"},
		{"defaults empty string over schema", nil, func(d *PoolSettings) { d.ManagedRuntimeLoader = ptr("") }, "managedRuntimeLoader", "", "defaults"},
		{"nested default", nil, nil, "processModel.idleTimeout", "00:20:00", "schema"},
		{"nested from defaults", nil, func(d *PoolSettings) {
			d.ProcessModel = &ProcessModel{IdleTimeout: ptr(TimeSpan(5 * time.Minute))}
		}, "processModel.idleTimeout", "00:05:00", "defaults"},
		{"sibling in a pool section does not hide the defaults", func(p *AppPool) {
			p.ProcessModel = &ProcessModel{MaxProcesses: ptr(uint64(4))}
		}, func(d *PoolSettings) {
			d.ProcessModel = &ProcessModel{IdleTimeout: ptr(TimeSpan(5 * time.Minute))}
		}, "processModel.idleTimeout", "00:05:00", "defaults"},
		{"deep nested", func(p *AppPool) {
			p.Recycling = &Recycling{PeriodicRestart: &PeriodicRestart{Time: ptr(TimeSpan(0))}}
		}, nil, "recycling.periodicRestart.time", "00:00:00", "pool"},
		{"deep nested default", func(p *AppPool) { p.Recycling = &Recycling{} }, nil, "recycling.periodicRestart.time", "1.05:00:00", "schema"},
		{"empty collection in pool overrides defaults", func(p *AppPool) { p.EnvironmentVariables = &[]EnvironmentVariable{} },
			func(d *PoolSettings) { d.EnvironmentVariables = &[]EnvironmentVariable{{"A", "1"}} }, "environmentVariables", "", "pool"},
		{"collection from defaults", nil, func(d *PoolSettings) { d.EnvironmentVariables = &[]EnvironmentVariable{{"A", "1"}} },
			"environmentVariables", "A=1", "defaults"},
		{"schedule default is empty", nil, nil, "recycling.periodicRestart.schedule", "", "schema"},
		{"command default is empty", nil, nil, "processModel.command", "", "schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{Version: FormatVersion, ApplicationPools: []AppPool{{Name: "P"}}}
			if tt.pool != nil {
				tt.pool(&c.ApplicationPools[0])
			}
			if tt.defaults != nil {
				tt.defaults(&c.ApplicationPoolDefaults)
			}
			f := PoolSchema.Field(tt.path)
			v, src := c.Effective(c.Pool("p"), f)
			if got := f.Format(v); got != tt.want || src != tt.wantSource {
				t.Errorf("Effective(%s) = %q from %s, want %q from %s", tt.path, got, src, tt.want, tt.wantSource)
			}
			// Without a pool, only defaults and schema apply.
			if tt.wantSource != "pool" {
				v2, src2 := c.Effective(nil, f)
				if f.Format(v2) != tt.want || src2 != tt.wantSource {
					t.Errorf("Effective(nil, %s) = %q from %s", tt.path, f.Format(v2), src2)
				}
			}
		})
	}
}

// TestResolved checks that Resolved sets every property of the schema to
// its effective value.
func TestResolved(t *testing.T) {
	c := &Config{Version: FormatVersion, ApplicationPools: []AppPool{{Name: "P"}}}
	p := &c.ApplicationPools[0]
	p.QueueLength = ptr(uint64(4000))
	p.Recycling = &Recycling{PeriodicRestart: &PeriodicRestart{Schedule: &[]TimeSpan{hms(3, 0, 0)}}}
	c.ApplicationPoolDefaults.CPU = &CPU{Action: ptr("Throttle")}
	c.ApplicationPoolDefaults.QueueLength = ptr(uint64(2000))
	r := c.Resolved(p)
	for i := range PoolSchema.Fields {
		f := &PoolSchema.Fields[i]
		t.Run(f.Path, func(t *testing.T) {
			got, ok := f.Get(&r)
			if !ok {
				t.Fatalf("Resolved left %s unset", f.Path)
			}
			want, _ := c.Effective(p, f)
			if !f.Equal(got, want) {
				t.Errorf("Resolved %s = %q, want %q", f.Path, f.Format(got), f.Format(want))
			}
			if err := f.Validate(got); err != nil {
				t.Errorf("Resolved %s is invalid: %v", f.Path, err)
			}
		})
	}
	if *r.QueueLength != 4000 || *r.CPU.Action != "Throttle" || *r.ProcessModel.IdentityType != "ApplicationPoolIdentity" {
		t.Errorf("Resolved = queueLength %d, cpu.action %s, identityType %s", *r.QueueLength, *r.CPU.Action, *r.ProcessModel.IdentityType)
	}
	// The resolved copy does not alias the pool's collections.
	(*r.Recycling.PeriodicRestart.Schedule)[0] = hms(4, 0, 0)
	if (*p.Recycling.PeriodicRestart.Schedule)[0] != hms(3, 0, 0) {
		t.Errorf("Resolved aliases the pool's schedule")
	}
	// Resolving the default settings works without a pool.
	r0 := c.Resolved(nil)
	if *r0.QueueLength != 2000 {
		t.Errorf("Resolved(nil).queueLength = %d, want 2000", *r0.QueueLength)
	}
}

// TestClearPrunesSections checks that clearing the last property of an
// option section removes the section, so Marshal does not write it.
func TestClearPrunesSections(t *testing.T) {
	tests := []struct {
		name    string
		set     []string // paths set on the pool, then the first is cleared
		section string   // TOML section that must disappear
		keep    string   // text that must stay in the file, if any
	}{
		{"processModel", []string{"processModel.idleTimeout"}, "processModel", ""},
		{"nested periodicRestart", []string{"recycling.periodicRestart.requests"}, "recycling", ""},
		{"periodicRestart only", []string{"recycling.periodicRestart.memory", "recycling.disallowOverlappingRotation"}, "periodicRestart", "disallowOverlappingRotation"},
		{"sibling kept", []string{"cpu.limit", "cpu.action"}, "", "action"},
		{"collection", []string{"environmentVariables"}, "environmentVariables", ""},
	}
	values := map[string]string{
		"processModel.idleTimeout":              "00:05:00",
		"recycling.periodicRestart.requests":    "100",
		"recycling.periodicRestart.memory":      "100",
		"recycling.disallowOverlappingRotation": "true",
		"cpu.limit":                             "50000",
		"cpu.action":                            "Throttle",
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{Version: FormatVersion, ApplicationPools: []AppPool{{Name: "P"}}}
			p := &c.ApplicationPools[0]
			for _, path := range tt.set {
				f := PoolSchema.Field(path)
				var v any
				if path == "environmentVariables" {
					v = []EnvironmentVariable{{"A", "1"}}
				} else {
					var err error
					if v, err = f.Parse(values[path]); err != nil {
						t.Fatal(err)
					}
				}
				f.Set(&p.PoolSettings, v)
				f.Set(&c.ApplicationPoolDefaults, v)
			}
			PoolSchema.Field(tt.set[0]).Clear(&p.PoolSettings)
			PoolSchema.Field(tt.set[0]).Clear(&c.ApplicationPoolDefaults)
			if _, ok := PoolSchema.Field(tt.set[0]).Get(&p.PoolSettings); ok {
				t.Fatalf("%s still set after Clear", tt.set[0])
			}
			if len(tt.set) == 1 && p.PoolSettings != (PoolSettings{}) {
				t.Errorf("Clear left %+v, want empty settings", p.PoolSettings)
			}
			data, err := Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			text := string(data)
			if tt.section != "" && strings.Contains(text, tt.section) {
				t.Errorf("Marshal still writes %s:\n%s", tt.section, text)
			}
			if tt.keep != "" && strings.Count(text, tt.keep) != 2 {
				t.Errorf("Marshal lost %s in pool or defaults:\n%s", tt.keep, text)
			}
			back, err := Parse(data)
			if err != nil {
				t.Fatalf("Parse(Marshal): %v\n%s", err, text)
			}
			if _, ok := PoolSchema.Field(tt.set[0]).Get(&back.ApplicationPools[0].PoolSettings); ok {
				t.Errorf("%s reappeared after a round trip", tt.set[0])
			}
		})
	}
}

func TestMarshalOnlySetValues(t *testing.T) {
	c := &Config{Version: FormatVersion, ApplicationPools: []AppPool{{Name: "P"}}}
	// Empty option sections, as a hand edit or a cleared value leaves them.
	c.ApplicationPools[0].ProcessModel = &ProcessModel{}
	c.ApplicationPools[0].Recycling = &Recycling{PeriodicRestart: &PeriodicRestart{}}
	c.ApplicationPoolDefaults.CPU = &CPU{}
	data, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"processModel", "recycling", "periodicRestart", "cpu", "queueLength", "idleTimeout"} {
		if strings.Contains(string(data), s) {
			t.Errorf("Marshal wrote %s:\n%s", s, data)
		}
	}
}

func TestConfigLookups(t *testing.T) {
	c := validConfig()
	t.Run("pool any case", func(t *testing.T) {
		if p := c.Pool("marketing"); p == nil || p.Name != "Marketing" {
			t.Errorf("Pool(marketing) = %v", p)
		}
		if p := c.Pool("nope"); p != nil {
			t.Errorf("Pool(nope) = %v", p)
		}
	})
	t.Run("site any case and by id", func(t *testing.T) {
		if s := c.Site("CONTOSO"); s == nil || s.ID != 2 {
			t.Errorf("Site(CONTOSO) = %v", s)
		}
		if s := c.SiteByID(1); s == nil || s.Name != DefaultSiteName {
			t.Errorf("SiteByID(1) = %v", s)
		}
		if s := c.SiteByID(9); s != nil {
			t.Errorf("SiteByID(9) = %v", s)
		}
		if n := c.NextSiteID(); n != 3 {
			t.Errorf("NextSiteID = %d, want 3", n)
		}
		if n := (&Config{}).NextSiteID(); n != 1 {
			t.Errorf("NextSiteID of no sites = %d, want 1", n)
		}
	})
	t.Run("apps and vdirs", func(t *testing.T) {
		s := c.Site("Contoso")
		a := s.App("/SHOP")
		if a == nil || a.Path != "/shop" {
			t.Fatalf("App(/SHOP) = %v", a)
		}
		if v := a.Vdir("/Images"); v == nil || v.PhysicalPath != "/srv/img" {
			t.Errorf("Vdir(/Images) = %v", v)
		}
		if v := a.Vdir("/none"); v != nil {
			t.Errorf("Vdir(/none) = %v", v)
		}
	})
	t.Run("AppsUsing", func(t *testing.T) {
		got := c.AppsUsing("MARKETING")
		if want := []string{"Contoso/", "Contoso/shop"}; !slices.Equal(got, want) {
			t.Errorf("AppsUsing = %q, want %q", got, want)
		}
		if got := c.AppsUsing("Unused"); got != nil {
			t.Errorf("AppsUsing(Unused) = %q", got)
		}
	})
}

func TestSplitAppName(t *testing.T) {
	tests := []struct {
		id, site, path string
		ok             bool
	}{
		{"Default Web Site/", "Default Web Site", "/", true},
		{"Contoso/shop/cart", "Contoso", "/shop/cart", true},
		{"Contoso", "Contoso", "", false},
		{"/x", "", "/x", true},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			site, path, ok := SplitAppName(tt.id)
			if site != tt.site || path != tt.path || ok != tt.ok {
				t.Errorf("SplitAppName(%q) = %q, %q, %v", tt.id, site, path, ok)
			}
			if ok && AppName(site, path) != tt.id {
				t.Errorf("AppName(%q, %q) = %q", site, path, AppName(site, path))
			}
		})
	}
}

func TestClone(t *testing.T) {
	c := validConfig()
	c.ApplicationPools[1].EnvironmentVariables = &[]EnvironmentVariable{{"A", "1"}}
	d := c.Clone()
	(*d.ApplicationPools[1].EnvironmentVariables)[0].Value = "2"
	d.Sites[1].Applications[1].VirtualDirectories[0].Path = "/other"
	if (*c.ApplicationPools[1].EnvironmentVariables)[0].Value != "1" || c.Sites[1].Applications[1].VirtualDirectories[0].Path != "/images" {
		t.Errorf("Clone shares memory with the original")
	}
}
