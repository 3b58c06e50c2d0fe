package worker_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestHiddenThroughSymlink: a symbolic link inside the physical path that
// leads to a dot-file or into a dot-directory (also inside it) is refused
// like the dot-path itself; so is a link to a file outside the physical
// path (/etc/passwd); a link to an ordinary file inside is served. The same
// holds for CGI scripts and default documents reached through a link.
func TestHiddenThroughSymlink(t *testing.T) {
	f := newFixture(t)
	write(t, f.dir, "www/.git/hook.cgi", script(`echo "Content-Type: text/plain"; echo; echo HIDDEN-CGI`), 0o755)
	write(t, f.dir, "www/.private/index.html", "hidden default document", 0o644)
	symlink(t, ".git", filepath.Join(f.www, "repo"))                           // dir link into .git
	symlink(t, ".git/config", filepath.Join(f.www, "cfg.txt"))                 // file link into .git
	symlink(t, filepath.Join(f.www, ".secret"), filepath.Join(f.www, "s.txt")) // absolute link to a dot-file
	symlink(t, "/etc/passwd", filepath.Join(f.www, "passwd"))                  // link out of the root
	symlink(t, "page.html", filepath.Join(f.www, "alias.html"))                // ordinary link inside
	symlink(t, ".git/hook.cgi", filepath.Join(f.www, "run.cgi"))               // CGI script link into .git
	symlink(t, ".private", filepath.Join(f.www, "priv"))                       // dir with a hidden default document
	symlink(t, ".well-known", filepath.Join(f.www, "wk"))                      // .well-known stays served
	h := f.handler(t, nil)
	for _, c := range []struct {
		target string
		want   int
	}{
		{"/repo/config", 404},
		{"/cfg.txt", 404},
		{"/s.txt", 404},
		{"/passwd", 404},
		{"/run.cgi", 404},
		{"/repo/hook.cgi", 404},
		{"/priv/", 404},
		{"/alias.html", 200},
		{"/wk/acme-challenge/tok1", 200},
	} {
		resp := do(t, h, "GET", c.target, nil, nil)
		body := readBody(t, resp)
		if resp.StatusCode != c.want {
			t.Errorf("GET %s: status %d, want %d (body %q)", c.target, resp.StatusCode, c.want, body)
		}
		for _, leak := range []string{"hidden", "HIDDEN", "root:"} {
			if strings.Contains(body, leak) {
				t.Errorf("GET %s served hidden or outside content: %q", c.target, body)
			}
		}
	}
}
