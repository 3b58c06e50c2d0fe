package commands

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/poolctl/poolctl/store"
)

// completionConfig is a store with names in both cases and with spaces.
func completionConfig() *store.Config {
	return &store.Config{
		ApplicationPools: []store.AppPool{{Name: "DefaultAppPool"}, {Name: "Marketing"}, {Name: "marcom"}, {Name: "Sales Team"}},
		Sites: []store.Site{
			{Name: "Default Web Site", ID: 1, Applications: []store.Application{
				{Path: "/", ApplicationPool: "DefaultAppPool"},
				{Path: "/mkt", ApplicationPool: "Marketing", VirtualDirectories: []store.VirtualDirectory{{Path: "/img", PhysicalPath: "/srv/img"}}},
			}},
			{Name: "Contoso", ID: 2},
		},
	}
}

func TestComplete(t *testing.T) {
	cfg := completionConfig()
	tests := []struct {
		name  string
		words []string
		want  []string // exactly these, in order
	}{
		{"verbs and commands", []string{""}, append(slices.Clone(verbOrder), nonVerbCommands...)},
		{"no words at all", nil, append(slices.Clone(verbOrder), nonVerbCommands...)},
		{"verb prefix", []string{"st"}, []string{"start", "stop"}},
		{"verb prefix, upper case", []string{"RE"}, []string{"recycle", "restore"}},
		{"global flags", []string{"--"}, []string{"--config", "--socket", "--help", "--timeout", "--state-dir"}},
		{"global flag prefix", []string{"--s"}, []string{"--socket", "--state-dir"}},
		{"verb after a global flag", []string{"--config", "/x.toml", "li"}, []string{"list"}},
		{"verb after --flag=value", []string{"--timeout=5s", "del"}, []string{"delete"}},
		{"value of --timeout", []string{"--timeout", ""}, nil},
		{"objects of start", []string{"start", ""}, []string{"apppool", "site"}},
		{"objects of recycle", []string{"recycle", ""}, []string{"apppool"}},
		{"objects, case-insensitive", []string{"LIST", "AP"}, []string{"apppool", "app"}},
		{"unknown verb", []string{"frob", ""}, nil},
		{"object without the verb", []string{"recycle", "site", ""}, nil},
		{"pool names", []string{"start", "apppool", ""}, []string{"DefaultAppPool", "marcom", "Marketing", "Sales Team"}},
		{"pool prefix, any case", []string{"start", "apppool", "MAR"}, []string{"marcom", "Marketing"}},
		{"plural object", []string{"list", "apppools", "sal"}, []string{"Sales Team"}},
		{"site names with spaces", []string{"start", "site", "Def"}, []string{"Default Web Site"}},
		{"app ids", []string{"set", "app", ""}, []string{"Default Web Site/", "Default Web Site/mkt"}},
		{"vdir ids", []string{"delete", "vdir", "Default Web Site/m"}, []string{"Default Web Site/mkt/", "Default Web Site/mkt/img"}},
		{"one identifier only", []string{"set", "apppool", "Marketing", "Mar"}, nil},
		{"no identifier for add", []string{"add", "apppool", "Mar"}, nil},
		{"named pool", []string{"start", "apppool", "/apppool.name:Mark"}, []string{"/apppool.name:Marketing"}},
		{"named pool, dash form", []string{"list", "wp", "-APPPOOL.NAME:s"}, []string{"-APPPOOL.NAME:Sales Team"}},
		{"named site", []string{"list", "app", "/site.name:"}, []string{"/site.name:Contoso", "/site.name:Default Web Site"}},
		{"named app", []string{"add", "vdir", "/app.name:Default Web Site/m"}, []string{"/app.name:Default Web Site/mkt"}},
		{"application pool of an app", []string{"set", "app", "Default Web Site/", "/applicationPool:m"}, []string{"/applicationPool:marcom", "/applicationPool:Marketing"}},
		{"copyFrom", []string{"add", "apppool", "/copyFrom:D"}, []string{"/copyFrom:DefaultAppPool"}},
		{"reassignTo", []string{"delete", "apppool", "Marketing", "/reassignTo:d"}, []string{"/reassignTo:DefaultAppPool"}},
		{"list filter by name", []string{"list", "site", "/name:c"}, []string{"/name:Contoso"}},
		{"property names", []string{"set", "apppool", "Marketing", "/processModel.id"}, []string{"/processModel.identityType:", "/processModel.idleTimeout:", "/processModel.idleTimeoutAction:"}},
		{"property names, case-insensitive", []string{"set", "apppool", "X", "/PROCESSMODEL.IDENTITYT"}, []string{"/processModel.identityType:"}},
		{"enum values", []string{"set", "apppool", "X", "/processModel.identityType:"}, []string{"/processModel.identityType:LocalSystem", "/processModel.identityType:LocalService", "/processModel.identityType:NetworkService", "/processModel.identityType:SpecificUser", "/processModel.identityType:ApplicationPoolIdentity"}},
		{"enum value prefix", []string{"set", "apppool", "X", "/processModel.identityType:loc"}, []string{"/processModel.identityType:LocalSystem", "/processModel.identityType:LocalService"}},
		{"bool values", []string{"add", "apppool", "/autoStart:"}, []string{"/autoStart:true", "/autoStart:false"}},
		{"enum filter of list", []string{"list", "apppool", "/startMode:a"}, []string{"/startMode:AlwaysRunning"}},
		{"free text has no values", []string{"set", "apppool", "X", "/processModel.userName:"}, nil},
		{"output switches", []string{"list", "site", "/j"}, []string{"/json"}},
		{"text values", []string{"list", "apppool", "/text:processModel.idleTimeoutA"}, []string{"/text:processModel.idleTimeoutAction"}},
		{"text star", []string{"list", "backup", "/text:"}, []string{"/text:*", "/text:name", "/text:type", "/text:time", "/text:path"}},
		{"config template switch", []string{"list", "apppool", "Marketing", "/con"}, []string{"/config", "/config:"}},
		{"config star", []string{"list", "apppool", "/config:"}, []string{"/config:*"}},
		{"add apppool params", []string{"add", "apppool", "/co"}, []string{"/copyFrom:"}},
		{"add apppool /in", []string{"add", "apppool", "/i"}, []string{"/in", "/in:"}},
		{"add site params", []string{"add", "site", "/name:"}, nil},
		{"add site params", []string{"add", "site", "/p"}, []string{"/physicalPath:"}},
		{"add app params", []string{"add", "app", "/s"}, []string{"/site.name:"}},
		{"delete takes the identifier only", []string{"delete", "site", "/"}, []string{"/site.name:"}},
		{"delete apppool", []string{"delete", "apppool", "/"}, []string{"/apppool.name:", "/reassignTo:"}},
		{"params after the identifier", []string{"recycle", "apppool", "Marketing", ""}, []string{"/apppool.name:"}},
		{"identifiers only on an empty word", []string{"recycle", "apppool", ""}, []string{"DefaultAppPool", "marcom", "Marketing", "Sales Team"}},
		{"params when add has no identifier", []string{"add", "backup", ""}, []string{"/name:"}},
		{"event filters", []string{"list", "event", "/s"}, []string{"/since:"}},
		{"request filters", []string{"list", "request", "/el"}, []string{"/elapsed:"}},
		{"config sections", []string{"list", "config", "/section:c"}, []string{"/section:configHistory"}},
		{"set config defaults", []string{"set", "config", "/section:applicationPools", "/applicationPoolDefaults.queueL"}, []string{"/applicationPoolDefaults.queueLength:"}},
		{"set config narrowed by section", []string{"set", "config", "/section:configHistory", "/"}, []string{"/section:", "/enabled:", "/maxHistories:", "/path:"}},
		{"set config enum", []string{"set", "config", "/applicationPoolDefaults.startMode:o"}, []string{"/applicationPoolDefaults.startMode:OnDemand"}},
		{"reset a property", []string{"set", "apppool", "X", "/-queue"}, []string{"/-queueLength"}},
		{"add to a collection", []string{"set", "apppool", "X", "/+env"}, []string{"/+environmentVariables.["}},
		{"add to bindings", []string{"set", "site", "Contoso", "-+"}, []string{"-+bindings.["}},
		{"help topics", []string{"help", "ap"}, []string{"apppool", "app"}},
		{"completion shells", []string{"completion", ""}, []string{"bash", "zsh", "fish"}},
		{"version", []string{"version", "/"}, []string{"/json"}},
		{"host flags", []string{"host", "--log"}, []string{"--log-level"}},
		{"nothing after completion's shell", []string{"completion", "bash", ""}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Complete(tt.words, cfg); !slices.Equal(got, tt.want) {
				t.Errorf("Complete(%q) =\n  %q\nwant\n  %q", tt.words, got, tt.want)
			}
		})
	}
}

// TestCompleteSchemaParams: add and set offer every property of the
// object's schema, after the parameters the handler reads itself.
func TestCompleteSchemaParams(t *testing.T) {
	for _, tt := range []struct {
		words []string
		first []string
		s     *store.Schema
	}{
		{[]string{"add", "site", "/"}, []string{"/name:", "/physicalPath:", "/applicationPool:"}, store.SiteSchema},
		{[]string{"add", "app", "/"}, []string{"/site.name:"}, store.AppSchema},
		{[]string{"set", "apppool", "X", "/"}, []string{"/apppool.name:", "/name:"}, store.PoolSchema},
		{[]string{"set", "vdir", "X", "/"}, []string{"/vdir.name:"}, store.VdirSchema},
	} {
		want := slices.Clone(tt.first)
		for _, f := range tt.s.Fields {
			if !slices.Contains(want, "/"+f.Path+":") {
				want = append(want, "/"+f.Path+":")
			}
		}
		if got := Complete(tt.words, nil); !slices.Equal(got, want) {
			t.Errorf("Complete(%q) =\n  %q\nwant\n  %q", tt.words, got, want)
		}
	}
	var secs []string
	for _, s := range sections() {
		secs = append(secs, "/section:"+s.name)
	}
	if got := Complete([]string{"list", "config", "/section:"}, nil); !slices.Equal(got, secs) {
		t.Errorf("sections = %q, want %q", got, secs)
	}
}

// TestCompleteNoStore: without a store there are no names, but the grammar
// still completes.
func TestCompleteNoStore(t *testing.T) {
	for _, words := range [][]string{{"start", "apppool", ""}, {"start", "apppool", "M"}, {"list", "app", "/site.name:"}, {"restore", "backup", ""}, {"set", "app", "/app.name:"}} {
		if got := Complete(words, nil); len(got) != 0 {
			t.Errorf("Complete(%q, nil) = %q, want nothing", words, got)
		}
	}
	if got := Complete([]string{"set", "apppool", "X", "/queueL"}, nil); !slices.Equal(got, []string{"/queueLength:"}) {
		t.Errorf("property names without a store = %q", got)
	}
}

// TestStoreCompleter reads the store of --config, backups included, and
// creates nothing when the store is missing.
func TestStoreCompleter(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "etc", "applicationHost.toml")
	if got := newStoreCompleter(path).complete([]string{"start", "apppool", ""}); got != nil {
		t.Errorf("missing store: got %q", got)
	}
	if _, err := os.Stat(filepath.Dir(path)); !os.IsNotExist(err) {
		t.Fatalf("completion created %s (stat: %v)", filepath.Dir(path), err)
	}
	data, err := store.Marshal(completionConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "etc", "backup"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, filepath.Join(dir, "etc", "backup", "before-upgrade.toml")} {
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := newStoreCompleter(path)
	if got := c.complete([]string{"start", "apppool", "sa"}); !slices.Equal(got, []string{"Sales Team"}) {
		t.Errorf("pools = %q", got)
	}
	if got := c.complete([]string{"restore", "backup", ""}); !slices.Equal(got, []string{"before-upgrade"}) {
		t.Errorf("backups = %q", got)
	}
	if got := c.complete([]string{"list", "backup", "/backup.name:b"}); !slices.Equal(got, []string{"/backup.name:before-upgrade"}) {
		t.Errorf("named backups = %q", got)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "etc"))
	if len(entries) != 2 {
		t.Errorf("completion changed the store directory: %v", entries)
	}
}

func TestConfigFromWords(t *testing.T) {
	tests := []struct {
		words []string
		def   string
		want  string
	}{
		{[]string{"--config", "/a.toml", "list", ""}, "/env.toml", "/a.toml"},
		{[]string{"-c", "/b.toml", "list", ""}, "/env.toml", "/b.toml"},
		{[]string{"--config=/c.toml", "list", ""}, "/env.toml", "/c.toml"},
		{[]string{"--timeout", "5s", "--config", "/d.toml", ""}, "", "/d.toml"},
		{[]string{"list", "--config", "/late.toml", ""}, "/env.toml", "/env.toml"},
		{[]string{"--config", ""}, "/env.toml", "/env.toml"}, // the flag's value is being typed
		{[]string{"list", ""}, "", store.DefaultPath()},
	}
	for _, tt := range tests {
		if got := configFromWords(tt.words, tt.def); got != tt.want {
			t.Errorf("configFromWords(%q, %q) = %q, want %q", tt.words, tt.def, got, tt.want)
		}
	}
}

func TestCompletePath(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"sub", "stuff", ".hidden"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "store.toml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p := dir + "/s"
	if got := completePath(p, false); !slices.Equal(got, []string{p + "tore.toml", p + "tuff/", p + "ub/"}) {
		t.Errorf("files = %q", got)
	}
	if got := completePath(p, true); !slices.Equal(got, []string{p + "tuff/", p + "ub/"}) {
		t.Errorf("dirs = %q", got)
	}
	if got := completePath(dir+"/", true); slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, ".hidden") }) {
		t.Errorf("hidden entries offered: %q", got)
	}
	if got := completePath(dir+"/.h", true); !slices.Equal(got, []string{dir + "/.hidden/"}) {
		t.Errorf("hidden on request = %q", got)
	}
	c := &completer{cfg: func() *store.Config { return nil }, paths: completePath}
	if got := c.complete([]string{"--config", dir + "/st"}); !slices.Equal(got, []string{dir + "/store.toml", dir + "/stuff/"}) {
		t.Errorf("--config value = %q", got)
	}
	if got := c.complete([]string{"--config=" + dir + "/sto"}); !slices.Equal(got, []string{"--config=" + dir + "/store.toml"}) {
		t.Errorf("--config= value = %q", got)
	}
	if got := c.complete([]string{"add", "apppool", "/in:" + dir + "/sto"}); !slices.Equal(got, []string{"/in:" + dir + "/store.toml"}) {
		t.Errorf("/in: value = %q", got)
	}
}
