package worker_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/poolctl/poolctl/worker"
)

const exampleSpec = `{"applications":[{"site":"Default Web Site","path":"/","physicalPath":"/srv/www","virtualDirectories":[{"path":"/img","physicalPath":"/srv/images"}]},
                 {"site":"Default Web Site","path":"/blog","physicalPath":"/srv/blog","virtualDirectories":[]}],
 "defaultDocuments":["index.html","index.htm","default.htm","default.html"],
 "cgiExtensions":[".cgi"]}`

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestFromEnv(t *testing.T) {
	addr, spec, err := worker.FromEnv(envOf(map[string]string{"PORT": "8080", worker.SpecEnv: exampleSpec}))
	if err != nil {
		t.Fatal(err)
	}
	if addr != "127.0.0.1:8080" {
		t.Errorf("addr = %q, want 127.0.0.1:8080", addr)
	}
	want := worker.Spec{
		Applications: []worker.App{
			{Site: "Default Web Site", Path: "/", PhysicalPath: "/srv/www",
				VirtualDirectories: []worker.VirtualDirectory{{Path: "/img", PhysicalPath: "/srv/images"}}},
			{Site: "Default Web Site", Path: "/blog", PhysicalPath: "/srv/blog", VirtualDirectories: []worker.VirtualDirectory{}},
		},
		DefaultDocuments: []string{"index.html", "index.htm", "default.htm", "default.html"},
		CGIExtensions:    []string{".cgi"},
	}
	if !reflect.DeepEqual(spec, want) {
		t.Errorf("spec = %+v\nwant %+v", spec, want)
	}

	for _, tc := range []struct{ env map[string]string }{
		{map[string]string{"POOLCTL_LISTEN": "127.0.0.1:9000"}},
		{map[string]string{"POOLCTL_LISTEN": "127.0.0.1:9000", "PORT": "9000"}},
	} {
		tc.env[worker.SpecEnv] = exampleSpec
		if addr, _, err := worker.FromEnv(envOf(tc.env)); err != nil || addr != "127.0.0.1:9000" {
			t.Errorf("FromEnv(%v) = %q, %v", tc.env, addr, err)
		}
	}
	if addr, _, err := worker.FromEnv(envOf(map[string]string{"POOLCTL_LISTEN": "unix:/run/w.sock", worker.SpecEnv: "{}"})); err != nil || addr != "unix:/run/w.sock" {
		t.Errorf("unix socket: %q, %v", addr, err)
	}
}

func TestFromEnvErrors(t *testing.T) {
	spec := exampleSpec
	tests := []struct {
		name string
		env  map[string]string
		want []string // substrings of the error
	}{
		{"nothing set", map[string]string{}, []string{"POOLCTL_LISTEN", "PORT"}},
		{"no listen", map[string]string{worker.SpecEnv: spec}, []string{"neither POOLCTL_LISTEN nor PORT"}},
		{"PORT not a number", map[string]string{"PORT": "http", worker.SpecEnv: spec}, []string{`PORT="http"`}},
		{"PORT out of range", map[string]string{"PORT": "70000", worker.SpecEnv: spec}, []string{`PORT="70000"`}},
		{"PORT zero", map[string]string{"PORT": "0", worker.SpecEnv: spec}, []string{`PORT="0"`}},
		{"listen without port", map[string]string{"POOLCTL_LISTEN": "127.0.0.1", worker.SpecEnv: spec}, []string{`POOLCTL_LISTEN="127.0.0.1"`}},
		{"listen bad port", map[string]string{"POOLCTL_LISTEN": "127.0.0.1:x", worker.SpecEnv: spec}, []string{`POOLCTL_LISTEN="127.0.0.1:x"`}},
		{"listen empty socket", map[string]string{"POOLCTL_LISTEN": "unix:", worker.SpecEnv: spec}, []string{"POOLCTL_LISTEN", "unix socket"}},
		{"listen and port disagree", map[string]string{"POOLCTL_LISTEN": "127.0.0.1:9000", "PORT": "9001", worker.SpecEnv: spec}, []string{"disagree"}},
		{"spec missing", map[string]string{"PORT": "8080"}, []string{"POOLCTL_WORKER_SPEC is not set"}},
		{"spec blank", map[string]string{"PORT": "8080", worker.SpecEnv: "  "}, []string{"POOLCTL_WORKER_SPEC is not set"}},
		{"spec not JSON", map[string]string{"PORT": "8080", worker.SpecEnv: "{applications"}, []string{"POOLCTL_WORKER_SPEC is not a valid worker spec"}},
		{"spec wrong shape", map[string]string{"PORT": "8080", worker.SpecEnv: `{"applications":{}}`}, []string{"POOLCTL_WORKER_SPEC"}},
		{"spec bad vdir path", map[string]string{"PORT": "8080", worker.SpecEnv: `{"applications":[{"path":"/","physicalPath":"/srv","virtualDirectories":[{"path":"img","physicalPath":"/i"}]}]}`},
			[]string{"POOLCTL_WORKER_SPEC", "virtual directory", "does not start with /"}},
		{"spec bad app path", map[string]string{"PORT": "8080", worker.SpecEnv: `{"applications":[{"path":"blog","physicalPath":"/srv"}]}`},
			[]string{"POOLCTL_WORKER_SPEC", "path", "does not start with /"}},
		{"spec bad default document", map[string]string{"PORT": "8080", worker.SpecEnv: `{"defaultDocuments":["a/b.html"]}`},
			[]string{"POOLCTL_WORKER_SPEC", "default document"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := worker.FromEnv(envOf(tc.env))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
