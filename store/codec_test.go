package store

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name   string
		data   string
		errSub []string
	}{
		{"unknown top-level key", "version = 1\nverson = 2\n", []string{"unknown key verson"}},
		{"unknown pool key", "version = 1\n[[applicationPools]]\nname = \"P\"\nqueueLenght = 5\n", []string{"unknown key", "applicationPools.queueLenght"}},
		{"unknown nested key", "version = 1\n[applicationPoolDefaults.processModel]\nidleTimeot = \"00:01:00\"\n", []string{"applicationPoolDefaults.processModel.idleTimeot"}},
		{"unknown section", "version = 1\n[applicationPoolDefault]\nqueueLength = 10\n", []string{"applicationPoolDefault"}},
		{"removed property", "version = 1\n[[applicationPools]]\nname = \"P\"\n[applicationPools.processModel]\npassword = \"x\"\n", []string{"applicationPools.processModel.password"}},
		{"missing version", "[[applicationPools]]\nname = \"P\"\n", []string{"no 'version' key"}},
		{"only a comment", "# just a comment\n", []string{"no 'version' key"}},
		{"empty file", "", []string{"empty", "no 'version' key"}},
		{"blank file", " \n\t\n", []string{"empty", "no 'version' key"}},
		{"syntax error line 3", "version = 1\n\nqueueLength = = 5\n", []string{"line 3"}},
		{"unterminated string line 2", "version = 1\n[applicationPoolDefaults]\nmanagedRuntimeLoader = \"abc\n", []string{"line 3"}},
		{"duplicate key", "version = 1\nversion = 1\n", []string{"line 2"}},
		{"wrong type", "version = \"one\"\n", []string{"version"}},
		{"bad time span", "version = 1\n[applicationPoolDefaults.processModel]\nidleTimeout = \"soon\"\n", []string{"soon"}},
		{"time span as number", "version = 1\n[applicationPoolDefaults.processModel]\nidleTimeout = 20\n", []string{"line 3", "hh:mm:ss"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Unmarshal([]byte(tt.data))
			if err == nil {
				t.Fatalf("Unmarshal = %+v, want an error", c)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			for _, s := range tt.errSub {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if _, perr := Parse([]byte(tt.data)); !errors.Is(perr, ErrInvalid) {
				t.Errorf("Parse = %v, want ErrInvalid", perr)
			}
		})
	}
}

func TestUnmarshalValid(t *testing.T) {
	tests := []struct {
		name  string
		data  string
		check func(t *testing.T, c *Config)
	}{
		{"version only", "version = 1\n", func(t *testing.T, c *Config) {
			if c.Version != 1 {
				t.Errorf("version = %d", c.Version)
			}
		}},
		{"time span spellings", "version = 1\n[applicationPoolDefaults.processModel]\nidleTimeout = \"20m\"\nshutdownTimeLimit = \"0.00:02:00\"\n", func(t *testing.T, c *Config) {
			pm := c.ApplicationPoolDefaults.ProcessModel
			if *pm.IdleTimeout != TimeSpan(20*time.Minute) || *pm.ShutdownTimeLimit != TimeSpan(2*time.Minute) {
				t.Errorf("got %v %v", *pm.IdleTimeout, *pm.ShutdownTimeLimit)
			}
		}},
		{"collections", "version = 1\n[[applicationPools]]\nname = \"P\"\n[applicationPools.recycling.periodicRestart]\nschedule = [\"03:00:00\", \"4h\"]\n[[applicationPools.environmentVariables]]\nname = \"A\"\nvalue = \"1\"\n", func(t *testing.T, c *Config) {
			p := c.ApplicationPools[0]
			if s := *p.Recycling.PeriodicRestart.Schedule; len(s) != 2 || s[1] != hms(4, 0, 0) {
				t.Errorf("schedule = %v", s)
			}
			if e := *p.EnvironmentVariables; len(e) != 1 || e[0] != (EnvironmentVariable{"A", "1"}) {
				t.Errorf("environmentVariables = %v", e)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.data))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestParseValidates(t *testing.T) {
	tests := []struct {
		name   string
		data   string
		errSub string
	}{
		{"newer version", "version = 2\n", "newer than this poolctl"},
		{"out of range", "version = 1\n[[applicationPools]]\nname = \"P\"\nqueueLength = 5\n", `apppool "P": queueLength`},
		{"bad pool name", "version = 1\n[[applicationPools]]\nname = \"a/b\"\n", `apppool "a/b"`},
		// TOML integers are signed; a negative one wraps around in a uint
		// field and fails its range check.
		{"negative uint", "version = 1\n[applicationPoolDefaults]\nqueueLength = -5\n", `"applicationPoolDefaults": queueLength`},
		{"negative site id", "version = 1\n[[sites]]\nname = \"S\"\nid = -1\nbindings = []\napplications = []\n", `site "S": id`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Unmarshal([]byte(tt.data)); err != nil {
				t.Fatalf("Unmarshal: %v (it must not validate)", err)
			}
			_, err := Parse([]byte(tt.data))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.errSub) {
				t.Errorf("Parse = %v, want ErrInvalid containing %q", err, tt.errSub)
			}
		})
	}
}

// TestMarshalRoundTrip checks that a configuration using every kind of value
// survives Marshal and Parse, and that the text is canonical: marshalling
// the parsed configuration gives the same bytes.
func TestMarshalRoundTrip(t *testing.T) {
	c := validConfig()
	c.ConfigHistory = ConfigHistory{Enabled: ptr(true), MaxHistories: ptr(uint64(3)), Path: ptr("/var/lib/poolctl/history")}
	c.ApplicationPoolDefaults.ManagedRuntimeVersion = ptr("")
	c.ApplicationPoolDefaults.ProcessModel = &ProcessModel{IdleTimeout: ptr(TimeSpan(29 * time.Hour / 10))}
	p := &c.ApplicationPools[1]
	p.QueueLength = ptr(uint64(4000))
	p.AutoStart = ptr(false)
	p.StartMode = ptr("AlwaysRunning")
	p.ProcessModel = &ProcessModel{
		IdentityType: ptr("SpecificUser"), UserName: ptr("www-data"),
		Command:  ptr([]string{"/usr/bin/node", "app.js", "--title=it's \"quoted\""}),
		PingPath: ptr("/health"), ShutdownTimeLimit: ptr(TimeSpan(1500 * time.Millisecond)),
	}
	p.Recycling = &Recycling{
		LogEventOnRecycle: ptr("Time,Memory"),
		PeriodicRestart:   &PeriodicRestart{Schedule: ptr([]TimeSpan{hms(3, 0, 0), hms(15, 30, 0)}), Time: ptr(TimeSpan(0))},
	}
	p.Failure = &Failure{OrphanActionParams: ptr("tab\there \\ \"q\" \u00e9 \x01")}
	p.EnvironmentVariables = ptr([]EnvironmentVariable{{"A", "1"}, {"B", ""}, {"C", "x=y,z"}})
	c.Sites[0].ServerAutoStart = ptr(false)
	c.Sites[0].Bindings = append(c.Sites[0].Bindings, Binding{Protocol: "https", BindingInformation: "[::1]:8443:", CertificateFile: "/c.pem", KeyFile: "/k.pem"})
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	data, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse(Marshal): %v\n%s", err, data)
	}
	again, err := Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, again) {
		t.Errorf("Marshal is not canonical:\n%s\n---\n%s", data, again)
	}
	for i := range PoolSchema.Fields {
		f := &PoolSchema.Fields[i]
		t.Run(f.Path, func(t *testing.T) {
			for j := range c.ApplicationPools {
				want, wok := f.Get(&c.ApplicationPools[j].PoolSettings)
				got, gok := f.Get(&back.ApplicationPools[j].PoolSettings)
				if wok != gok || wok && !f.Equal(want, got) {
					t.Errorf("pool %d: %q (%v) came back as %q (%v)", j, f.Format(want), wok, f.Format(got), gok)
				}
			}
			want, wok := f.Get(&c.ApplicationPoolDefaults)
			got, gok := f.Get(&back.ApplicationPoolDefaults)
			if wok != gok || wok && !f.Equal(want, got) {
				t.Errorf("defaults: %q (%v) came back as %q (%v)", f.Format(want), wok, f.Format(got), gok)
			}
		})
	}
	if back.Sites[1].Applications[1].VirtualDirectories[0].PhysicalPath != "/srv/img" || *back.ConfigHistory.MaxHistories != 3 {
		t.Errorf("sites or configHistory lost: %+v", back)
	}
	if !bytes.HasPrefix(data, []byte("#")) {
		t.Errorf("Marshal wrote no header comment:\n%s", data)
	}
}

func TestMarshalWritesCurrentVersion(t *testing.T) {
	c := &Config{}
	data, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if back.Version != FormatVersion {
		t.Errorf("version = %d, want %d", back.Version, FormatVersion)
	}
	if c.Version != 0 {
		t.Errorf("Marshal changed its argument's version to %d", c.Version)
	}
}
