package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/poolctl/poolctl/internal/buildinfo"
)

// TestVersionJSON: 'poolctl version /json' prints one JSON object with the
// version and the build facts, and the text form starts "poolctl VERSION".
func TestVersionJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"poolctl", "version", "/json"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if got["version"] != buildinfo.Version() || got["go"] != runtime.Version() || got["os"] != runtime.GOOS || got["arch"] != runtime.GOARCH {
		t.Errorf("version /json = %v", got)
	}
	for _, k := range []string{"module", "moduleVersion", "revision", "time", "modified"} {
		if _, ok := got[k]; !ok {
			t.Errorf("version /json lacks %q: %v", k, got)
		}
	}
	out.Reset()
	if code := Main(context.Background(), []string{"poolctl", "version"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	if first, _, _ := strings.Cut(out.String(), "\n"); first != "poolctl "+buildinfo.Version() {
		t.Errorf("first line %q, want %q", first, "poolctl "+buildinfo.Version())
	}
}
