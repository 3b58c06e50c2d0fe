package etcdstore

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/poolctl/poolctl/store"
)

const handEdited = `# poolctl store, edited by hand
version = 1

[configHistory]
maxHistories = 3

[[applicationPools]]
name = "A"  # the first pool
queueLength = 10

[applicationPools.processModel]
maxProcesses = 2

[[applicationPools]]
name = "b"

[host]
isolationMode = "Legacy"

[[sites]]
name = "S"
id = 1

[[sites.bindings]]
protocol = "http"
bindingInformation = "*:8080:"

[[sites.applications]]
path = "/"
applicationPool = "A"
physicalPath = "/srv"
# trailing comment
`

// TestSplitJoinIdentity: any store file, poolctl's own or edited by hand,
// is laid out and joined back byte for byte.
func TestSplitJoinIdentity(t *testing.T) {
	c := &store.Config{Version: 1, ApplicationPools: []store.AppPool{{Name: "DefaultAppPool"}, {Name: "Two"}},
		Sites: []store.Site{{Name: "Default Web Site", ID: 1, Bindings: []store.Binding{{Protocol: "http", BindingInformation: "*:80:"}},
			Applications: []store.Application{{Path: "/", ApplicationPool: "Two", PhysicalPath: "/srv"}}}}}
	canon, err := store.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"canonical": canon, "hand-edited": []byte(handEdited), "crlf": []byte(strings.ReplaceAll(handEdited, "\n", "\r\n"))} {
		t.Run(name, func(t *testing.T) {
			cfg, err := store.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			l, err := splitLayout(data, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := l.join()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("join(split) differs:\n%s\n---\n%s", got, data)
			}
			var refs int
			for _, p := range l.manifest.Parts {
				if p.Pool != "" || p.Site != "" {
					refs++
				}
			}
			if refs != len(cfg.ApplicationPools)+len(cfg.Sites) {
				t.Fatalf("%d references for %d pools and sites", refs, len(cfg.ApplicationPools)+len(cfg.Sites))
			}
		})
	}
}

// TestSplitRefusesUnsplittable: a store whose pools are not written as
// [[applicationPools]] sections is refused with ErrInvalid, not stored
// wrongly.
func TestSplitRefusesUnsplittable(t *testing.T) {
	data := []byte("version = 1\napplicationPools = [{name = \"A\"}]\nsites = []\n")
	cfg, err := store.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := splitLayout(data, cfg, nil); err == nil || !strings.Contains(err.Error(), "cannot be laid out") {
		t.Fatalf("split = %v, want a layout error", err)
	}
	_ = context.Background
}

// TestBucketsBounded: a whole-store write stays under etcd's default of 128
// operations per transaction however many pools there are.
func TestBucketsBounded(t *testing.T) {
	c := &store.Config{Version: 1}
	for i := range 3000 {
		c.ApplicationPools = append(c.ApplicationPools, store.AppPool{Name: fmt.Sprintf("pool%05d", i)})
	}
	data, err := store.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	l, err := splitLayout(data, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(l.buckets) + 1; n > 128 {
		t.Fatalf("%d keys in a whole-store write", n)
	}
}

// FuzzSplitSegments: the segments of any input concatenate to the input.
func FuzzSplitSegments(f *testing.F) {
	f.Add([]byte(handEdited))
	f.Add([]byte("[[applicationPools]]\n[[sites]]\n[x]\n"))
	f.Add([]byte(""))
	f.Add([]byte("\n\n[[sites]]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var b bytes.Buffer
		for _, s := range splitSegments(data) {
			b.WriteString(s.text)
		}
		if !bytes.Equal(b.Bytes(), data) {
			t.Fatalf("segments of %q join to %q", data, b.Bytes())
		}
	})
}
