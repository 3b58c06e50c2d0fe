package store

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/poolctl/poolctl/internal/storetest"
)

// canonicalSamples are canonical store files: Marshal's output for the
// encoder's representative configurations.
func canonicalSamples(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for name, c := range encConfigs(t) {
		data, err := Marshal(c)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = data
	}
	return out
}

// TestDecodeCanonicalMatchesBurntSushi: on every file Marshal writes that
// reads back to itself (all but one of the samples: a pool whose command is
// a pointer to a nil list writes an empty [processModel] table, which reads
// back as no command at all), the fast path is taken and fills exactly what
// BurntSushi/toml fills.
func TestDecodeCanonicalMatchesBurntSushi(t *testing.T) {
	fixed := 0
	for name, data := range canonicalSamples(t) {
		t.Run(name, func(t *testing.T) {
			want, err := unmarshalTOML(data)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := decodeCanonical(data)
			if again, err := Marshal(want); err != nil || !bytes.Equal(again, data) {
				if ok {
					t.Fatalf("the fast path accepted a file that does not read back to itself:\n%s", data)
				}
				return
			}
			fixed++
			if !ok {
				t.Fatalf("the fast path refused Marshal's own output:\n%s", data)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("fast path differs from BurntSushi:\n got %#v\nwant %#v", got, want)
			}
		})
	}
	if fixed < len(canonicalSamples(t))-1 {
		t.Fatalf("only %d samples read back to themselves", fixed)
	}
}

// TestUnmarshalTakesFastPath: loading a store poolctl wrote does not go
// through BurntSushi/toml at all (the cost that grew with the pool count).
func TestUnmarshalTakesFastPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "applicationHost.toml")
	if err := storetest.WriteStore(path, 500); err != nil {
		t.Fatal(err)
	}
	before := slowDecodes.Load()
	c, err := Open(path).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := slowDecodes.Load() - before; n != 0 {
		t.Fatalf("Load of a canonical store decoded %d time(s) through BurntSushi; want 0", n)
	}
	if len(c.ApplicationPools) != 500 {
		t.Fatalf("%d pools; want 500", len(c.ApplicationPools))
	}
	// A hand-edited file takes the general path and reads the same.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := bytes.Replace(data, []byte("version = 1\n"), []byte("version = 1 # edited by hand\n"), 1)
	before = slowDecodes.Load()
	c2, err := Unmarshal(edited)
	if err != nil {
		t.Fatal(err)
	}
	if slowDecodes.Load()-before != 1 {
		t.Fatal("a hand-edited file did not go through BurntSushi")
	}
	c.storeVersion = ""
	if !reflect.DeepEqual(c, c2) {
		t.Fatal("the hand-edited file reads differently")
	}
}

// TestDecodeCanonicalRefuses: text that is not exactly Marshal's is left
// to BurntSushi, so Unmarshal's answer, value or error, is BurntSushi's.
func TestDecodeCanonicalRefuses(t *testing.T) {
	base := string(canonicalSamples(t)["sites"])
	pool := "\n[[applicationPools]]\nname = \"web\"\n"
	if !strings.Contains(base, pool) {
		t.Fatalf("sample changed; no %q in\n%s", pool, base)
	}
	edit := func(old, new string) string {
		if !strings.Contains(base, old) {
			t.Fatalf("no %q in the sample", old)
		}
		return strings.Replace(base, old, new, 1)
	}
	cases := map[string]string{
		"no header comment":        strings.TrimPrefix(base, fileHeader),
		"comment line":             edit(pool, "\n# web\n"+pool[1:]),
		"trailing comment":         edit(`name = "web"`, `name = "web" # x`),
		"CRLF":                     strings.ReplaceAll(base, "\n", "\r\n"),
		"no final newline":         strings.TrimSuffix(base, "\n"),
		"extra blank line":         edit(pool, "\n"+pool),
		"spaces around =":          edit(`name = "web"`, `name  =  "web"`),
		"literal string":           edit(`name = "web"`, `name = 'web'`),
		"quoted key":               edit(`name = "web"`, `"name" = "web"`),
		"unknown key":              edit(`name = "web"`, "name = \"web\"\nqueueLenght = 5"),
		"duplicate key":            edit(`name = "web"`, "name = \"web\"\nname = \"web\""),
		"plus sign":                edit("id = 1\n", "id = +1\n"),
		"leading zero":             edit("id = 1\n", "id = 01\n"),
		"underscore":               edit("id = 2\n", "id = 0_2\n"),
		"negative id":              edit("id = 2\n", "id = -2\n"),
		"over int64":               edit("id = 2\n", "id = 9223372036854775808\n"),
		"hex":                      edit("id = 2\n", "id = 0x2\n"),
		"bool case":                edit("serverAutoStart = false", "serverAutoStart = False"),
		"bool as string":           edit("serverAutoStart = false", `serverAutoStart = "false"`),
		"unicode escape":           edit(`name = "web"`, `name = "w\u0065b"`),
		"upper hex escape":         edit(`name = "web"`, `name = "w\u001Fb"`),
		"bad escape":               edit(`name = "web"`, `name = "w\qb"`),
		"unterminated":             edit(`name = "web"`, `name = "web`),
		"tab in string":            edit(`name = "web"`, "name = \"w\tb\""),
		"keys reordered":           edit("name = \"Default Web Site\"\nid = 1", "id = 1\nname = \"Default Web Site\""),
		"table twice":              edit("[[sites.bindings]]", "[sites]\n[[sites.bindings]]"),
		"array as table":           edit("[[sites.bindings]]", "[sites.bindings]"),
		"table as array":           base + "\n[[configHistory]]\n",
		"empty header":             base + "\n[]\n",
		"dotted key":               edit(`name = "web"`, "name = \"web\"\nprocessModel.pingPath = \"/\""),
		"implicit parent":          base + "\n[applicationPoolDefaults.recycling.periodicRestart]\nrequests = 5\n",
		"empty option table":       base + "\n[host]\n",
		"version 2":                edit("version = 1\n", "version = 2\n"),
		"inline table":             edit(`name = "web"`, "name = \"web\"\nprocessModel = {pingPath = \"/\"}"),
		"array spacing":            base + "\n[applicationPoolDefaults.processModel]\ncommand = [\"a\",\"b\"]\n",
		"array trailing comma":     base + "\n[applicationPoolDefaults.processModel]\ncommand = [\"a\", \"b\", ]\n",
		"array of ints":            base + "\n[applicationPoolDefaults.processModel]\ncommand = [1, 2]\n",
		"non-canonical time span":  base + "\n[applicationPoolDefaults.processModel]\nidleTimeout = \"20m\"\n",
		"bad time span":            base + "\n[applicationPoolDefaults.processModel]\nidleTimeout = \"soon\"\n",
		"empty file":               "",
		"header only":              fileHeader,
		"invalid UTF-8":            edit(`name = "web"`, "name = \"w\xffb\""),
		"NUL":                      edit(`name = "web"`, "name = \"w\x00b\""),
		"array of tables as value": edit("\n[[sites.bindings]]", "\nbindings = [{protocol = \"http\"}]\n[[sites.bindings]]"),
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			if c, ok := decodeCanonical([]byte(text)); ok {
				t.Fatalf("the fast path accepted non-canonical text:\n%s\n=> %#v", text, c)
			}
			got, gotErr := Unmarshal([]byte(text))
			want, wantErr := unmarshalTOML([]byte(text))
			if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
				t.Fatalf("Unmarshal error %v; BurntSushi's %v", gotErr, wantErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Unmarshal %#v; BurntSushi %#v", got, want)
			}
		})
	}
}

// FuzzDecodeCanonical: whatever the fast path accepts, BurntSushi/toml
// accepts too, with the same values; and it never panics.
func FuzzDecodeCanonical(f *testing.F) {
	for _, data := range canonicalSamples(f) {
		if len(data) < 64<<10 {
			f.Add(data)
		}
	}
	f.Add([]byte(fileHeader + "version = 1\napplicationPools = []\n"))
	f.Add([]byte(fileHeader + "version = 1\n\n[configHistory]\n\n[applicationPoolDefaults]\napplicationPools = []\n"))
	f.Add([]byte(fileHeader + "version = 1\n\n[configHistory]\n\n[applicationPoolDefaults]\n\n[[applicationPools]]\nname = \"a\\u001f\\\"\\\\\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := decodeCanonical(data)
		if !ok {
			return
		}
		want, err := unmarshalTOML(data)
		if err != nil {
			t.Fatalf("the fast path accepted what BurntSushi refuses (%v):\n%s", err, data)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("fast path differs from BurntSushi:\n got %#v\nwant %#v\n%s", got, want, data)
		}
	})
}

// BenchmarkValidate measures Config.Validate, which every load runs.
func BenchmarkValidate(b *testing.B) {
	for _, n := range []int{10, 1000} {
		c := encBenchConfig(n)
		b.Run(fmt.Sprintf("pools=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Validate(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
