package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestVersion(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs.revision", Value: "abc1234def567"}, {Key: "vcs.time", Value: "2026-11-21T17:00:00Z"}}
	dirty := append(append([]debug.BuildSetting{}, rev...), debug.BuildSetting{Key: "vcs.modified", Value: "true"})
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"no build info", nil, false, "0.0.0-devel"},
		{"devel, no vcs", &debug.BuildInfo{Main: debug.Module{Path: "m", Version: "(devel)"}}, true, "0.0.0-devel"},
		{"devel with revision", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: rev}, true, "0.0.0-devel+abc1234"},
		{"modified tree", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: dirty}, true, "0.0.0-devel+abc1234.dirty"},
		{"tagged", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, true, "1.2.3"},
		{"tagged with revision", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: rev}, true, "1.2.3+abc1234"},
		{"pseudo-version stamped by go build", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261121195352-b2b45aeac7b3+dirty"}, Settings: dirty}, true, "0.0.0-20261121195352-b2b45aeac7b3+dirty"},
		{"version with build metadata", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3+incompatible"}, Settings: rev}, true, "1.2.3+incompatible"},
	}
	for _, tt := range tests {
		if got := fromBuildInfo(tt.bi, tt.ok).Version(); got != tt.want {
			t.Errorf("%s: Version() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestInfoFields(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.99.0", Main: debug.Module{Path: "github.com/poolctl/poolctl", Version: "v0.1.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "false"}}}
	i := fromBuildInfo(bi, true)
	if i.Module != "github.com/poolctl/poolctl" || i.ModuleVersion != "v0.1.0" || i.GoVersion != "go1.99.0" ||
		i.Revision != "0123456789abcdef" || i.ShortRevision() != "0123456" || i.Time != "2026-01-02T03:04:05Z" || i.Modified {
		t.Errorf("fromBuildInfo = %+v", i)
	}
	if i.OS != runtime.GOOS || i.Arch != runtime.GOARCH {
		t.Errorf("platform %s/%s, want %s/%s", i.OS, i.Arch, runtime.GOOS, runtime.GOARCH)
	}
}
