package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// validConfig returns a small valid configuration: two pools and two sites,
// the second with a nested application and a virtual directory.
func validConfig() *Config {
	return &Config{
		Version: FormatVersion,
		ApplicationPools: []AppPool{
			{Name: DefaultPoolName},
			{Name: "Marketing"},
		},
		Sites: []Site{
			{
				Name:     DefaultSiteName,
				ID:       1,
				Bindings: []Binding{{Protocol: "http", BindingInformation: "*:8080:"}},
				Applications: []Application{
					{Path: "/", ApplicationPool: DefaultPoolName, PhysicalPath: "/srv/www"},
				},
			},
			{
				Name:     "Contoso",
				ID:       2,
				Bindings: []Binding{{Protocol: "http", BindingInformation: "*:8081:"}},
				Applications: []Application{
					{Path: "/", ApplicationPool: "Marketing", PhysicalPath: "/srv/contoso"},
					{Path: "/shop", ApplicationPool: "marketing", PhysicalPath: "/srv/shop",
						VirtualDirectories: []VirtualDirectory{{Path: "/images", PhysicalPath: "/srv/img"}}},
				},
			},
		},
	}
}

func ptr[T any](v T) *T { return &v }

func TestValidConfig(t *testing.T) {
	if err := validConfig().Validate(); err != nil {
		t.Fatalf("the base configuration is invalid: %v", err)
	}
	if err := (&Config{}).Validate(); err != nil {
		t.Fatalf("an empty configuration is invalid: %v", err)
	}
}

func TestValidatePoolName(t *testing.T) {
	valid := []string{"DefaultAppPool", "Marketing Pool", "a", "pool.with-dots_and'quote", "Pööl", strings.Repeat("x", 64), " leading"}
	for _, name := range valid {
		t.Run("valid "+name, func(t *testing.T) {
			if err := ValidatePoolName(name); err != nil {
				t.Errorf("ValidatePoolName(%q): %v", name, err)
			}
		})
	}
	type bad struct{ name, why string }
	var invalid []bad
	for _, c := range poolNameForbidden {
		invalid = append(invalid, bad{"a" + string(c) + "b", "not allowed"})
	}
	invalid = append(invalid,
		bad{"", "empty"},
		bad{"   ", "empty"},
		bad{strings.Repeat("x", 65), "longer than 64"},
		bad{"tab\tname", "control"},
		bad{"new\nline", "control"},
		bad{"nul\x00", "control"},
		bad{"del\x7f", "control"},
	)
	for _, tt := range invalid {
		t.Run(fmt.Sprintf("invalid %q", tt.name), func(t *testing.T) {
			err := ValidatePoolName(tt.name)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ValidatePoolName(%q) = %v, want ErrInvalid", tt.name, err)
			}
			if !strings.Contains(err.Error(), tt.why) || !strings.Contains(err.Error(), "apppool") {
				t.Errorf("error %q does not name the pool and say %q", err, tt.why)
			}
		})
	}
}

func TestValidateSiteName(t *testing.T) {
	tests := []struct {
		name  string
		valid bool
	}{
		{"Default Web Site", true},
		{"contoso.com", true},
		{"a:b|c", true},
		{"", false},
		{" ", false},
		{"a/b", false},
		{"a?b", false},
		{"a\tb", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateSiteName(tt.name)
			if tt.valid != (err == nil) {
				t.Fatalf("ValidateSiteName(%q) = %v, want valid %v", tt.name, err, tt.valid)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
		})
	}
}

func TestValidateURLPath(t *testing.T) {
	tests := []struct {
		path  string
		valid bool
	}{
		{"/", true},
		{"/app", true},
		{"/a/b/c", true},
		{"/App-1.v2", true},
		{"/caf%C3%A9", true},
		{"", false},
		{"app", false},
		{"/app/", false},
		{"//", false},
		{"/a//b", false},
		{"/.", false},
		{"/a/..", false},
		{"/a/./b", false},
		{"/a?b", false},
		{"/a#b", false},
		{`/a\b`, false},
		{"/a\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			err := ValidateURLPath("app", "S"+tt.path, tt.path)
			if tt.valid != (err == nil) {
				t.Fatalf("ValidateURLPath(%q) = %v, want valid %v", tt.path, err, tt.valid)
			}
			if err != nil && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "path")) {
				t.Errorf("error %q is not ErrInvalid naming the path", err)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(c *Config)
		wantErr error
		errSub  []string // parts of the message: object, property, what is wrong
	}{
		{"store version newer", func(c *Config) { c.Version = FormatVersion + 1 }, ErrInvalid,
			[]string{"version", "newer than this poolctl understands"}},
		{"pool name forbidden char", func(c *Config) { c.ApplicationPools[1].Name = "Mark/eting" }, ErrInvalid,
			[]string{`apppool "Mark/eting"`, "not allowed"}},
		{"pool name empty", func(c *Config) { c.ApplicationPools[1].Name = "" }, ErrInvalid,
			[]string{"apppool", "empty"}},
		{"pool name too long", func(c *Config) { c.ApplicationPools[1].Name = strings.Repeat("p", 65) }, ErrInvalid,
			[]string{"longer than 64"}},
		{"duplicate pool other case", func(c *Config) {
			c.ApplicationPools = append(c.ApplicationPools, AppPool{Name: "MARKETING"})
		}, ErrExists, []string{`apppool "MARKETING"`, `already exists as "Marketing"`}},
		{"duplicate pool same case", func(c *Config) {
			c.ApplicationPools = append(c.ApplicationPools, AppPool{Name: "Marketing"})
		}, ErrExists, []string{`apppool "Marketing": already exists`}},
		// Names are compared as Config.Pool and friends look them up, with
		// strings.EqualFold: U+017F LATIN SMALL LETTER LONG S folds to 's'.
		{"duplicate pool by Unicode case folding", func(c *Config) {
			c.ApplicationPools = append(c.ApplicationPools, AppPool{Name: "Sales"}, AppPool{Name: "ſales"})
		}, ErrExists, []string{`already exists as "Sales"`}},
		{"app pool found by Unicode case folding", func(c *Config) {
			c.ApplicationPools = append(c.ApplicationPools, AppPool{Name: "Sales"})
			c.Sites[1].Applications[1].ApplicationPool = "ſALES"
		}, nil, nil},
		{"pool value out of range", func(c *Config) { c.ApplicationPools[1].QueueLength = ptr(uint64(5)) }, ErrInvalid,
			[]string{`apppool "Marketing": queueLength`, "expected 10 to 65535"}},
		{"pool enum not canonical", func(c *Config) {
			c.ApplicationPools[1].ProcessModel = &ProcessModel{IdentityType: ptr("localsystem")}
		}, ErrInvalid, []string{"processModel.identityType", `must be written "LocalSystem"`}},
		{"defaults value out of range", func(c *Config) {
			c.ApplicationPoolDefaults.CPU = &CPU{Limit: ptr(uint64(100001))}
		}, ErrInvalid, []string{"applicationPoolDefaults", "cpu.limit"}},
		{"history value out of range", func(c *Config) { c.ConfigHistory.MaxHistories = ptr(uint64(0)) }, ErrInvalid,
			[]string{"maxHistories", "out of range"}},
		{"SpecificUser without userName", func(c *Config) {
			c.ApplicationPools[1].ProcessModel = &ProcessModel{IdentityType: ptr("SpecificUser")}
		}, ErrInvalid, []string{`apppool "Marketing": processModel.userName`, "no userName", "set /processModel.userName:USER"}},
		{"SpecificUser from defaults without userName", func(c *Config) {
			c.ApplicationPoolDefaults.ProcessModel = &ProcessModel{IdentityType: ptr("SpecificUser")}
		}, ErrInvalid, []string{`apppool "DefaultAppPool": processModel.userName`}},
		{"SpecificUser with userName from defaults", func(c *Config) {
			c.ApplicationPoolDefaults.ProcessModel = &ProcessModel{UserName: ptr("www-data")}
			c.ApplicationPools[1].ProcessModel = &ProcessModel{IdentityType: ptr("SpecificUser")}
		}, nil, nil},
		{"SpecificUser with empty userName", func(c *Config) {
			c.ApplicationPools[1].ProcessModel = &ProcessModel{IdentityType: ptr("SpecificUser"), UserName: ptr("")}
		}, ErrInvalid, []string{"no userName"}},
		{"pingPath without slash", func(c *Config) {
			c.ApplicationPools[1].ProcessModel = &ProcessModel{PingPath: ptr("health")}
		}, ErrInvalid, []string{`apppool "Marketing": processModel.pingPath`, `"health" does not start with '/'`}},
		{"pingPath with slash", func(c *Config) {
			c.ApplicationPools[1].ProcessModel = &ProcessModel{PingPath: ptr("/health")}
		}, nil, nil},
		{"site id 0", func(c *Config) { c.Sites[1].ID = 0 }, ErrInvalid,
			[]string{`site "Contoso": id`, "the id is 0"}},
		{"site id too large", func(c *Config) { c.Sites[1].ID = 1 << 32 }, ErrInvalid,
			[]string{`site "Contoso": id`, "out of range"}},
		{"duplicate site id", func(c *Config) { c.Sites[1].ID = 1 }, ErrInvalid,
			[]string{`site "Contoso": id`, `already used by site "Default Web Site"`}},
		{"duplicate site name other case", func(c *Config) { c.Sites[1].Name = "default web site" }, ErrExists,
			[]string{`site "default web site"`, `already exists as "Default Web Site"`}},
		{"duplicate site by Unicode case folding", func(c *Config) { c.Sites[1].Name = "Default Web ſite" }, ErrExists,
			[]string{`already exists as "Default Web Site"`}},
		{"duplicate app by Unicode case folding", func(c *Config) {
			c.Sites[1].Applications = append(c.Sites[1].Applications, Application{Path: "/ſhop", ApplicationPool: "Marketing", PhysicalPath: "/x"})
		}, ErrExists, []string{"app"}},
		{"duplicate vdir by Unicode case folding", func(c *Config) {
			a := &c.Sites[1].Applications[1]
			a.VirtualDirectories = append(a.VirtualDirectories, VirtualDirectory{Path: "/imageſ", PhysicalPath: "/y"})
		}, ErrExists, []string{"vdir"}},
		{"site name with slash", func(c *Config) { c.Sites[1].Name = "a/b" }, ErrInvalid,
			[]string{`site "a/b": name`}},
		{"same endpoint on two sites", func(c *Config) { c.Sites[1].Bindings[0].BindingInformation = "*:8080:" }, ErrInvalid,
			[]string{`site "Contoso": bindings`, `http/*:8080: is already bound by site "Default Web Site"`}},
		{"binding not in canonical form", func(c *Config) { c.Sites[1].Bindings[0].BindingInformation = "*:08080:" }, ErrInvalid,
			[]string{`site "Contoso": bindings`, `must be written "http/*:8080:"`}},
		{"same port other host is fine", func(c *Config) {
			c.Sites[1].Bindings[0].BindingInformation = "*:8080:contoso.com"
		}, nil, nil},
		{"same port other ip is fine", func(c *Config) {
			c.Sites[1].Bindings[0].BindingInformation = "127.0.0.1:8080:"
		}, nil, nil},
		{"http and https on one ip:port across sites", func(c *Config) {
			c.Sites[1].Bindings[0] = Binding{Protocol: "https", BindingInformation: "*:8080:contoso.com", CertificateFile: "/c", KeyFile: "/k"}
		}, ErrInvalid, []string{"port *:8080 is used for http by site \"Default Web Site\" and cannot also serve https"}},
		{"http and https on one ip:port in one site", func(c *Config) {
			c.Sites[1].Bindings = append(c.Sites[1].Bindings, Binding{Protocol: "https", BindingInformation: "*:8081:x", CertificateFile: "/c", KeyFile: "/k"})
		}, ErrInvalid, []string{"port *:8081 is used for http"}},
		{"https on another port is fine", func(c *Config) {
			c.Sites[1].Bindings = append(c.Sites[1].Bindings, Binding{Protocol: "https", BindingInformation: "*:8443:", CertificateFile: "/c", KeyFile: "/k"})
		}, nil, nil},
		{"app path without slash", func(c *Config) { c.Sites[1].Applications[1].Path = "shop" }, ErrInvalid,
			[]string{`app "Contoso/shop": path`, "does not start with '/'"}},
		{"app path trailing slash", func(c *Config) { c.Sites[1].Applications[1].Path = "/shop/" }, ErrInvalid,
			[]string{"ends with '/'"}},
		{"app path dot dot", func(c *Config) { c.Sites[1].Applications[1].Path = "/a/../b" }, ErrInvalid,
			[]string{"'..'"}},
		{"duplicate app other case", func(c *Config) { c.Sites[1].Applications[1].Path = "/" }, ErrExists,
			[]string{`app "Contoso/"`}},
		{"duplicate app path case-insensitive", func(c *Config) {
			c.Sites[1].Applications = append(c.Sites[1].Applications, Application{Path: "/SHOP", ApplicationPool: "Marketing", PhysicalPath: "/x"})
		}, ErrExists, []string{`app "Contoso/SHOP"`}},
		{"same app path on two sites is fine", func(c *Config) {
			c.Sites[0].Applications = append(c.Sites[0].Applications, Application{Path: "/shop", ApplicationPool: "Marketing", PhysicalPath: "/x"})
		}, nil, nil},
		{"app pointing at a missing pool", func(c *Config) { c.Sites[1].Applications[1].ApplicationPool = "Sales" }, ErrInvalid,
			[]string{`app "Contoso/shop": applicationPool`, `pool "Sales" does not exist`}},
		{"app with empty pool", func(c *Config) { c.Sites[1].Applications[0].ApplicationPool = "" }, ErrInvalid,
			[]string{`pool "" does not exist`}},
		{"vdir root", func(c *Config) { c.Sites[1].Applications[1].VirtualDirectories[0].Path = "/" }, ErrInvalid,
			[]string{`vdir "Contoso/shop/": path`, "root virtual directory"}},
		{"vdir no slash", func(c *Config) { c.Sites[1].Applications[1].VirtualDirectories[0].Path = "images" }, ErrInvalid,
			[]string{"vdir", "does not start with '/'"}},
		{"vdir trailing slash", func(c *Config) { c.Sites[1].Applications[1].VirtualDirectories[0].Path = "/images/" }, ErrInvalid,
			[]string{"vdir", "ends with '/'"}},
		{"duplicate vdir other case", func(c *Config) {
			a := &c.Sites[1].Applications[1]
			a.VirtualDirectories = append(a.VirtualDirectories, VirtualDirectory{Path: "/IMAGES", PhysicalPath: "/y"})
		}, ErrExists, []string{`vdir "Contoso/shop/IMAGES"`}},
		{"vdir of the root app is named site/path", func(c *Config) {
			c.Sites[1].Applications[0].VirtualDirectories = []VirtualDirectory{{Path: "/a/../b", PhysicalPath: "/y"}}
		}, ErrInvalid, []string{`vdir "Contoso/a/../b"`}},
		{"vdir nested path is fine", func(c *Config) {
			c.Sites[1].Applications[0].VirtualDirectories = []VirtualDirectory{{Path: "/a/b", PhysicalPath: "/y"}}
		}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.edit(c)
			err := c.Validate()
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Validate = %v, want %v", err, tt.wantErr)
			}
			for _, s := range tt.errSub {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}
