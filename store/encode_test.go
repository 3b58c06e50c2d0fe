package store

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// burntSushiMarshal is the store encoder as it was before encode.go:
// BurntSushi/toml's Encoder on a copy of the configuration pruned of empty
// option sections. The tests hold Marshal to its output byte for byte.
func burntSushiMarshal(t testing.TB, c *Config) []byte {
	t.Helper()
	out := *c
	out.Version = FormatVersion
	pools := make([]AppPool, len(c.ApplicationPools))
	for i, p := range c.ApplicationPools {
		pools[i] = encDeepCopyPool(t, p)
		pruneEmpty(reflect.ValueOf(&pools[i].PoolSettings).Elem())
	}
	out.ApplicationPools = pools
	out.ApplicationPoolDefaults = encDeepCopyPool(t, AppPool{PoolSettings: c.ApplicationPoolDefaults}).PoolSettings
	pruneEmpty(reflect.ValueOf(&out.ApplicationPoolDefaults).Elem())
	var buf bytes.Buffer
	buf.WriteString(fileHeader)
	enc := toml.NewEncoder(&buf)
	enc.Indent = ""
	if err := enc.Encode(&out); err != nil {
		t.Fatalf("BurntSushi encode: %v", err)
	}
	return buf.Bytes()
}

// burntSushiMarshalPools is MarshalPools as it was before encode.go.
func burntSushiMarshalPools(t testing.TB, pools []AppPool) []byte {
	t.Helper()
	tmpl := poolTemplate{ApplicationPools: make([]AppPool, len(pools))}
	for i, p := range pools {
		tmpl.ApplicationPools[i] = encDeepCopyPool(t, p)
		pruneEmpty(reflect.ValueOf(&tmpl.ApplicationPools[i].PoolSettings).Elem())
	}
	var buf bytes.Buffer
	enc := toml.NewEncoder(&buf)
	enc.Indent = ""
	if err := enc.Encode(&tmpl); err != nil {
		t.Fatalf("BurntSushi encode: %v", err)
	}
	return buf.Bytes()
}

// encDeepCopyPool copies a pool through reflection, so that pruneEmpty in
// the reference encoders cannot change the test's own values (it clears
// pointers inside shared option structs).
func encDeepCopyPool(t testing.TB, p AppPool) AppPool {
	t.Helper()
	var out AppPool
	encDeepCopy(reflect.ValueOf(&out).Elem(), reflect.ValueOf(p))
	return out
}

func encDeepCopy(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		dst.Set(reflect.New(src.Type().Elem()))
		encDeepCopy(dst.Elem(), src.Elem())
	case reflect.Struct:
		for i := range src.NumField() {
			encDeepCopy(dst.Field(i), src.Field(i))
		}
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		dst.Set(reflect.MakeSlice(src.Type(), src.Len(), src.Len()))
		for i := range src.Len() {
			encDeepCopy(dst.Index(i), src.Index(i))
		}
	default:
		dst.Set(src)
	}
}

func encPtr[T any](v T) *T { return &v }

// encFill sets every unset property below v (a struct), recursively through
// option tables, to a value that depends on seed, so that a field added to
// the types is covered by the comparison tests without editing them.
func encFill(t testing.TB, v reflect.Value, seed int) {
	t.Helper()
	for i := range v.NumField() {
		fv, sf := v.Field(i), v.Type().Field(i)
		if sf.Anonymous {
			encFill(t, fv, seed)
			continue
		}
		if !fv.IsZero() {
			continue
		}
		seed++
		switch x := fv.Addr().Interface().(type) {
		case *string:
			*x = fmt.Sprintf(`v%d "q" \ é`, seed)
		case **string:
			*x = encPtr(fmt.Sprintf("s%d\tx\u00e9\u2603\U0001F600'", seed))
		case **bool:
			*x = encPtr(seed%2 == 0)
		case **uint64:
			*x = encPtr(uint64(seed) * 1000003)
		case **TimeSpan:
			*x = encPtr(TimeSpan(time.Duration(seed%997)*26*time.Hour + 1234567800))
		case **[]string:
			*x = &[]string{"/usr/bin/app", fmt.Sprintf("--n=%d", seed), `a "b"`}
		case **[]TimeSpan:
			*x = &[]TimeSpan{TimeSpan(3 * time.Hour), TimeSpan(time.Duration(seed) * time.Minute)}
		case **[]EnvironmentVariable:
			*x = &[]EnvironmentVariable{{Name: "A", Value: fmt.Sprint(seed)}, {Name: "PATH", Value: "/bin:/usr/bin"}}
		default:
			if fv.Kind() == reflect.Pointer && fv.Type().Elem().Kind() == reflect.Struct {
				fv.Set(reflect.New(fv.Type().Elem()))
				encFill(t, fv.Elem(), seed*10)
				continue
			}
			if fv.Kind() == reflect.Struct {
				encFill(t, fv, seed*10)
				continue
			}
			t.Fatalf("encFill: no test value for %s %s: extend encFill", sf.Name, fv.Type())
		}
	}
}

// encAllSetPool is a pool with every property set.
func encAllSetPool(t testing.TB, name string, seed int) AppPool {
	t.Helper()
	p := AppPool{Name: name}
	encFill(t, reflect.ValueOf(&p.PoolSettings).Elem(), seed)
	return p
}

// encConfigs are the representative stores the encoder is compared on.
func encConfigs(t testing.TB) map[string]*Config {
	t.Helper()
	allSet := encAllSetPool(t, "Every", 1)
	defaults := encAllSetPool(t, "", 500).PoolSettings
	history := ConfigHistory{}
	encFill(t, reflect.ValueOf(&history).Elem(), 7)
	def := (&Store{Path: "/var/lib/poolctl/applicationHost.toml"}).newDefault()

	return map[string]*Config{
		"default store": def,
		"zero value":    {},
		"no pools, empty sites": {
			Version: 1, ApplicationPools: []AppPool{}, Sites: []Site{},
		},
		"every pool property": {
			Version:                 1,
			ConfigHistory:           history,
			ApplicationPoolDefaults: defaults,
			ApplicationPools:        []AppPool{{Name: "First"}, allSet, encAllSetPool(t, "Second", 100)},
			Sites:                   def.Sites,
		},
		"empty lists and sections": {
			Version: 1,
			ApplicationPoolDefaults: PoolSettings{
				ProcessModel:         &ProcessModel{},                                 // dropped
				Recycling:            &Recycling{PeriodicRestart: &PeriodicRestart{}}, // dropped
				EnvironmentVariables: &[]EnvironmentVariable{},
			},
			ApplicationPools: []AppPool{
				{Name: "EmptyEnv", PoolSettings: PoolSettings{EnvironmentVariables: &[]EnvironmentVariable{}}},
				{Name: "NilEnv", PoolSettings: PoolSettings{EnvironmentVariables: new([]EnvironmentVariable)}},
				{Name: "EmptyCommand", PoolSettings: PoolSettings{ProcessModel: &ProcessModel{Command: &[]string{}}}},
				{Name: "NilCommand", PoolSettings: PoolSettings{ProcessModel: &ProcessModel{Command: new([]string)}}},
				{Name: "EmptySchedule", PoolSettings: PoolSettings{Recycling: &Recycling{PeriodicRestart: &PeriodicRestart{Schedule: &[]TimeSpan{}}}}},
				{Name: "PrunedNested", PoolSettings: PoolSettings{
					QueueLength: encPtr(uint64(0)),
					Recycling:   &Recycling{LogEventOnRecycle: encPtr(""), PeriodicRestart: &PeriodicRestart{}},
					CPU:         &CPU{},
					Failure:     &Failure{RapidFailProtection: encPtr(false)},
				}},
				{Name: "ZeroSpans", PoolSettings: PoolSettings{ProcessModel: &ProcessModel{IdleTimeout: encPtr(TimeSpan(0)), MaxProcesses: encPtr(uint64(0))}}},
			},
		},
		"sites": {
			Version:          1,
			ApplicationPools: []AppPool{{Name: "web"}, {Name: "api"}},
			Sites: []Site{
				{
					Name: "Default Web Site", ID: 1, ServerAutoStart: encPtr(false),
					Bindings: []Binding{
						{Protocol: "http", BindingInformation: "*:80:"},
						{Protocol: "https", BindingInformation: "*:443:example.com", CertificateFile: "/etc/ssl/example.pem", KeyFile: "/etc/ssl/private/example.key"},
						{Protocol: "https", BindingInformation: "[::1]:8443:", CertificateFile: "/etc/ssl/a b/\"c\".pem", KeyFile: "C:\\keys\\k.pem"},
					},
					Applications: []Application{
						{Path: "/", ApplicationPool: "web", PhysicalPath: "/srv/www"},
						{Path: "/api", ApplicationPool: "api", PhysicalPath: "/srv/api", VirtualDirectories: []VirtualDirectory{
							{Path: "/static", PhysicalPath: "/srv/static"},
							{Path: "/docs/v1", PhysicalPath: "/srv/docs/ü"},
						}},
						{Path: "/empty", ApplicationPool: "api", PhysicalPath: "/srv/e", VirtualDirectories: []VirtualDirectory{}},
					},
				},
				{Name: "no bindings", ID: 2, ServerAutoStart: encPtr(true), Bindings: []Binding{}, Applications: []Application{}},
				{Name: "nil lists", ID: 3},
				{Name: "", ID: 0, Bindings: []Binding{{}}, Applications: []Application{{}}},
			},
		},
		"1000 pools": encBenchConfig(1000),
	}
}

// TestMarshalMatchesBurntSushi holds the encoder to the BurntSushi encoder's
// output, byte for byte, so existing stores do not change when rewritten.
func TestMarshalMatchesBurntSushi(t *testing.T) {
	for name, c := range encConfigs(t) {
		t.Run(name, func(t *testing.T) {
			want := burntSushiMarshal(t, c)
			got, err := Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("Marshal differs from BurntSushi at byte %d:\n%s", encFirstDiff(got, want), encDiffContext(got, want))
			}
			back, err := Unmarshal(got)
			if err != nil {
				t.Fatalf("Unmarshal(Marshal(c)): %v\n%s", err, got)
			}
			// A decoded store is a fixed point. (c itself need not be one:
			// a pointer to a nil list writes nothing, so its section may
			// be written empty once and then dropped.)
			once, err := Marshal(back)
			if err != nil {
				t.Fatal(err)
			}
			back, err = Unmarshal(once)
			if err != nil {
				t.Fatalf("Unmarshal: %v\n%s", err, once)
			}
			if twice, err := Marshal(back); err != nil || !bytes.Equal(twice, once) {
				t.Fatalf("Marshal∘Unmarshal is not stable (err %v):\n%s", err, encDiffContext(twice, once))
			}
		})
	}
}

// TestMarshalPoolsMatchesBurntSushi does the same for pool templates.
func TestMarshalPoolsMatchesBurntSushi(t *testing.T) {
	cases := map[string][]AppPool{
		"nil":       nil,
		"empty":     {},
		"bare":      {{Name: "A"}},
		"every":     {encAllSetPool(t, "A", 3), {Name: "B"}, encAllSetPool(t, "C", 40)},
		"empty env": {{Name: "A", PoolSettings: PoolSettings{EnvironmentVariables: &[]EnvironmentVariable{}, CPU: &CPU{}}}},
	}
	for name, pools := range cases {
		t.Run(name, func(t *testing.T) {
			want := burntSushiMarshalPools(t, pools)
			got, err := MarshalPools(pools)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("MarshalPools differs from BurntSushi:\n%s", encDiffContext(got, want))
			}
			if bytes.HasPrefix(got, []byte("#")) || bytes.Contains(got, []byte("version")) {
				t.Errorf("a template has no header or version:\n%s", got)
			}
		})
	}
}

// TestMarshalLayout pins the layout of a small store, so that a change to
// both encoders at once (a BurntSushi upgrade) is noticed too.
func TestMarshalLayout(t *testing.T) {
	c := &Config{
		ApplicationPools: []AppPool{
			{Name: "A", PoolSettings: PoolSettings{
				QueueLength:          encPtr(uint64(3000)),
				ProcessModel:         &ProcessModel{IdleTimeout: encPtr(TimeSpan(10 * time.Minute)), Command: &[]string{"a", "b"}},
				Recycling:            &Recycling{PeriodicRestart: &PeriodicRestart{Schedule: &[]TimeSpan{TimeSpan(3 * time.Hour)}}},
				EnvironmentVariables: &[]EnvironmentVariable{{Name: "X", Value: "y"}},
			}},
			{Name: "B", PoolSettings: PoolSettings{EnvironmentVariables: &[]EnvironmentVariable{}}},
		},
		Sites: []Site{{Name: "S", ID: 1,
			Bindings:     []Binding{{Protocol: "https", BindingInformation: "*:443:", CertificateFile: "/c.pem", KeyFile: "/k.pem"}},
			Applications: []Application{{Path: "/", ApplicationPool: "A", PhysicalPath: "/srv", VirtualDirectories: []VirtualDirectory{{Path: "/v", PhysicalPath: "/w"}}}},
		}},
	}
	want := fileHeader + `version = 1

[configHistory]

[applicationPoolDefaults]

[[applicationPools]]
name = "A"
queueLength = 3000
[applicationPools.processModel]
idleTimeout = "00:10:00"
command = ["a", "b"]
[applicationPools.recycling]
[applicationPools.recycling.periodicRestart]
schedule = ["03:00:00"]

[[applicationPools.environmentVariables]]
name = "X"
value = "y"

[[applicationPools]]
name = "B"
environmentVariables = []

[[sites]]
name = "S"
id = 1

[[sites.bindings]]
protocol = "https"
bindingInformation = "*:443:"
certificateFile = "/c.pem"
keyFile = "/k.pem"

[[sites.applications]]
path = "/"
applicationPool = "A"
physicalPath = "/srv"

[[sites.applications.virtualDirectories]]
path = "/v"
physicalPath = "/w"
`
	got, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("layout:\n%s", encDiffContext(got, []byte(want)))
	}
}

// TestMarshalStrings checks the escaping of tricky strings, and that each
// reads back unchanged.
func TestMarshalStrings(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{`say "hi"`, `"say \"hi\""`},
		{`C:\dir\`, `"C:\\dir\\"`},
		{"line1\nline2", `"line1\nline2"`},
		{"a\tb", `"a\tb"`},
		{"\r\n", `"\r\n"`},
		{"\b\f", `"\b\f"`},
		{"\x00\x01\x1f", `"\u0000\u0001\u001f"`},
		{"\x0b\x1b", `"\u000b\u001b"`},
		{"del\x7f", `"del\u007f"`},
		{"it's", `"it's"`},
		{`"""`, `"\"\"\""`},
		{`'''`, `"'''"`},
		{"\\u0041", `"\\u0041"`},
		{"é ü 中文 ☃ 😀", `"é ü 中文 ☃ 😀"`},
		{"\u0085\u00a0\u2028\ufeff\ufffd", "\"\u0085\u00a0\u2028\ufeff\ufffd\""},
		{"# not a comment", `"# not a comment"`},
		{"a = b", `"a = b"`},
		{"[[x]]", `"[[x]]"`},
		{" ", `" "`},
	}
	for _, tt := range tests {
		got, ok := appendString(nil, tt.in)
		if !ok || string(got) != tt.want {
			t.Errorf("appendString(%q) = %s, %v; want %s", tt.in, got, ok, tt.want)
		}
		// Every place a string can be: keys of tables, arrays, values.
		c := &Config{
			Version: 1,
			ApplicationPools: []AppPool{{Name: tt.in, PoolSettings: PoolSettings{
				ProcessModel:         &ProcessModel{Command: &[]string{tt.in, "x"}, UserName: encPtr(tt.in)},
				EnvironmentVariables: &[]EnvironmentVariable{{Name: "N", Value: tt.in}},
			}}},
			Sites: []Site{{Name: tt.in, ID: 1, Bindings: []Binding{{Protocol: "https", BindingInformation: "*:1:", CertificateFile: tt.in, KeyFile: "k"}}}},
		}
		data, err := Marshal(c)
		if err != nil {
			t.Fatalf("Marshal(%q): %v", tt.in, err)
		}
		if want := burntSushiMarshal(t, c); !bytes.Equal(data, want) {
			t.Errorf("Marshal(%q) differs from BurntSushi:\n%s", tt.in, encDiffContext(data, want))
		}
		back, err := Unmarshal(data)
		if err != nil {
			t.Fatalf("Unmarshal(Marshal(%q)): %v\n%s", tt.in, err, data)
		}
		if !reflect.DeepEqual(back, c) {
			t.Errorf("%q did not round-trip:\n got %#v\nwant %#v", tt.in, back, c)
		}
	}
}

// TestMarshalInvalidUTF8 checks that a string no TOML file can hold is an
// error naming the key, not a store that cannot be read back.
func TestMarshalInvalidUTF8(t *testing.T) {
	bad := "Z\xff"
	cases := map[string]struct {
		c   *Config
		key string
	}{
		"pool name": {&Config{ApplicationPools: []AppPool{{Name: bad}}}, "applicationPools.name"},
		"env value": {&Config{ApplicationPools: []AppPool{{Name: "A", PoolSettings: PoolSettings{
			EnvironmentVariables: &[]EnvironmentVariable{{Name: "N", Value: bad}}}}}}, "applicationPools.environmentVariables.value"},
		"command":      {&Config{ApplicationPoolDefaults: PoolSettings{ProcessModel: &ProcessModel{Command: &[]string{"ok", bad}}}}, "applicationPoolDefaults.processModel.command"},
		"vdir path":    {&Config{Sites: []Site{{Name: "S", Applications: []Application{{Path: "/", VirtualDirectories: []VirtualDirectory{{Path: "/v", PhysicalPath: "/\xc3"}}}}}}}, "sites.applications.virtualDirectories.physicalPath"},
		"history path": {&Config{ConfigHistory: ConfigHistory{Path: encPtr("\xed\xa0\x80")}}, "configHistory.path"}, // an encoded surrogate
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			data, err := Marshal(tc.c)
			if !errors.Is(err, ErrInvalid) || data != nil {
				t.Fatalf("Marshal = %q, %v; want an ErrInvalid error", data, err)
			}
			if !strings.Contains(err.Error(), tc.key+" ") || !strings.Contains(err.Error(), "UTF-8") {
				t.Errorf("error %q does not name %s and UTF-8", err, tc.key)
			}
		})
	}
	if _, err := MarshalPools([]AppPool{{Name: bad}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("MarshalPools with an invalid name: %v; want ErrInvalid", err)
	}
}

// TestMarshalLeavesConfigAlone checks that dropping empty option sections
// happens in the output only.
func TestMarshalLeavesConfigAlone(t *testing.T) {
	c := &Config{ApplicationPools: []AppPool{{Name: "A", PoolSettings: PoolSettings{
		ProcessModel: &ProcessModel{},
		Recycling:    &Recycling{LogEventOnRecycle: encPtr("Time"), PeriodicRestart: &PeriodicRestart{}},
	}}}}
	if _, err := Marshal(c); err != nil {
		t.Fatal(err)
	}
	p := c.ApplicationPools[0]
	if p.ProcessModel == nil || p.Recycling.PeriodicRestart == nil || c.Version != 0 {
		t.Errorf("Marshal changed its argument: %+v", p)
	}
	if _, err := MarshalPools(c.ApplicationPools); err != nil {
		t.Fatal(err)
	}
	if p := c.ApplicationPools[0]; p.ProcessModel == nil || p.Recycling.PeriodicRestart == nil {
		t.Errorf("MarshalPools changed its argument: %+v", p)
	}
}

// TestEncodeDocumentPrefix checks that a prefix (the store's header
// comment) does not count as output: a document starting with a table gets
// no blank line before it, as BurntSushi's encoder writes none.
func TestEncodeDocumentPrefix(t *testing.T) {
	tmpl := poolTemplate{ApplicationPools: []AppPool{{Name: "A"}}}
	got, err := encodeDocument(templatePlan(), reflect.ValueOf(&tmpl).Elem(), "# head\n", 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := "# head\n[[applicationPools]]\nname = \"A\"\n"; string(got) != want {
		t.Errorf("got %q; want %q", got, want)
	}
}

// TestEncPlanRejectsUnsupported checks that a field the encoder cannot
// write as BurntSushi would stops the program at start-up instead of being
// dropped or written differently.
func TestEncPlanRejectsUnsupported(t *testing.T) {
	type recursive struct {
		Children []recursive `toml:"children"`
	}
	cases := map[string]reflect.Type{
		"map":            reflect.TypeFor[struct{ M map[string]string }](),
		"float":          reflect.TypeFor[struct{ F float64 }](),
		"text marshaler": reflect.TypeFor[struct{ T time.Time }](),
		"embedded ptr":   reflect.TypeFor[struct{ *Binding }](),
		"recursive":      reflect.TypeFor[recursive](),
	}
	for name, typ := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("newEncPlan(%s) did not panic", typ)
				}
			}()
			newEncPlan(typ, "")
		})
	}
}

// TestAppendTimeSpan holds the fast span formatter to TimeSpan.String.
func TestAppendTimeSpan(t *testing.T) {
	spans := []TimeSpan{0, 1, 99, 100, 101, TimeSpan(time.Second), TimeSpan(59 * time.Second),
		TimeSpan(20 * time.Minute), TimeSpan(23*time.Hour + 59*time.Minute + 59*time.Second + 999999999),
		TimeSpan(24 * time.Hour), TimeSpan(29 * time.Hour), TimeSpan(1234*24*time.Hour + 1234567),
		maxTimeSpan, math.MaxInt64, -1, TimeSpan(-90 * time.Second), math.MinInt64}
	for _, s := range spans {
		if got, want := string(appendTimeSpan([]byte("x"), s)), "x"+s.String(); got != want {
			t.Errorf("appendTimeSpan(%d) = %q; want %q", int64(s), got, want)
		}
	}
}

// FuzzMarshalRoundTrip puts arbitrary text where the store keeps names,
// values and paths, and arbitrary spans where it keeps times: the output
// must equal BurntSushi's, and read back to the same configuration, or be an
// ErrInvalid error when the text is not valid UTF-8.
func FuzzMarshalRoundTrip(f *testing.F) {
	f.Add("DefaultAppPool", "production", "/srv/www", int64(20*time.Minute))
	f.Add(`a"b\c`, "line\nbreak\ttab\x00nul\x7f", `C:\Program Files\x`, int64(29*time.Hour+1234567))
	f.Add("'''", `"""`, "é/中/😀", int64(0))
	f.Add("Z\xff", "ok", "/x", int64(-1))
	f.Add("", "", "", int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, name, value, path string, span int64) {
		if got, want := string(appendTimeSpan(nil, TimeSpan(span))), TimeSpan(span).String(); got != want {
			t.Fatalf("appendTimeSpan(%d) = %q; want %q", span, got, want)
		}
		// A span the decoder accepts: 0 to 100 years, in whole ticks.
		ts := TimeSpan(uint64(span)%uint64(maxTimeSpan)) / 100 * 100
		c := &Config{
			Version:       FormatVersion,
			ConfigHistory: ConfigHistory{Path: &path},
			ApplicationPools: []AppPool{{Name: name, PoolSettings: PoolSettings{
				ManagedRuntimeLoader: &value,
				ProcessModel: &ProcessModel{
					Command:          &[]string{path, name, value},
					WorkingDirectory: &path,
					IdleTimeout:      &ts,
				},
				Recycling:            &Recycling{PeriodicRestart: &PeriodicRestart{Schedule: &[]TimeSpan{ts, 0}}},
				EnvironmentVariables: &[]EnvironmentVariable{{Name: name, Value: value}},
			}}},
			Sites: []Site{{Name: name, ID: 1,
				Bindings:     []Binding{{Protocol: "https", BindingInformation: value, CertificateFile: path, KeyFile: name}},
				Applications: []Application{{Path: path, ApplicationPool: name, PhysicalPath: value, VirtualDirectories: []VirtualDirectory{{Path: name, PhysicalPath: path}}}},
			}},
		}
		data, err := Marshal(c)
		if !utf8.ValidString(name) || !utf8.ValidString(value) || !utf8.ValidString(path) {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Marshal with invalid UTF-8 = %v; want ErrInvalid", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if want := burntSushiMarshal(t, c); !bytes.Equal(data, want) {
			t.Fatalf("differs from BurntSushi:\n%s", encDiffContext(data, want))
		}
		back, err := Unmarshal(data)
		if err != nil {
			t.Fatalf("Unmarshal: %v\n%s", err, data)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("round trip:\n got %#v\nwant %#v\n%s", back, c, data)
		}
		tmpl, err := MarshalPools(c.ApplicationPools)
		if err != nil {
			t.Fatal(err)
		}
		if want := burntSushiMarshalPools(t, c.ApplicationPools); !bytes.Equal(tmpl, want) {
			t.Fatalf("template differs from BurntSushi:\n%s", encDiffContext(tmpl, want))
		}
	})
}

// encFirstDiff is the offset of the first byte where a and b differ.
func encFirstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// encDiffContext shows both texts around their first difference.
func encDiffContext(got, want []byte) string {
	i := encFirstDiff(got, want)
	from := max(0, i-200)
	return fmt.Sprintf("--- got (from byte %d)\n%s\n--- want\n%s", from, got[from:min(len(got), i+200)], want[from:min(len(want), i+200)])
}
