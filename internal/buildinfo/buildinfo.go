// Package buildinfo describes the running poolctl binary: its version and
// the build information the Go toolchain recorded in it. It imports nothing
// of poolctl, so the host packages can name the version (the W3C log's
// #Software header, metrics) without importing the CLI.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Info is what the binary knows about its own build.
type Info struct {
	Module        string `json:"module"`        // main module path; "" when not recorded
	ModuleVersion string `json:"moduleVersion"` // "v1.2.3", a pseudo-version, or "(devel)"
	Revision      string `json:"revision"`      // full VCS revision; "" when not recorded
	Time          string `json:"time"`          // commit time, RFC 3339; "" when not recorded
	Modified      bool   `json:"modified"`      // the working tree had uncommitted changes
	GoVersion     string `json:"go"`            // "go1.26.8"
	OS            string `json:"os"`            // GOOS
	Arch          string `json:"arch"`          // GOARCH
}

// Read returns the information of this binary. Binaries built without
// module support (or test binaries) report ModuleVersion "(devel)" and no
// VCS fields.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	return fromBuildInfo(bi, ok)
}

// fromBuildInfo builds an Info from what debug.ReadBuildInfo returned.
func fromBuildInfo(bi *debug.BuildInfo, ok bool) Info {
	info := Info{ModuleVersion: "(devel)", GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if !ok || bi == nil {
		return info
	}
	info.Module = bi.Main.Path
	if bi.Main.Version != "" {
		info.ModuleVersion = bi.Main.Version
	}
	if bi.GoVersion != "" {
		info.GoVersion = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.time":
			info.Time = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// ShortRevision is the first 7 characters of the revision.
func (i Info) ShortRevision() string {
	if len(i.Revision) > 7 {
		return i.Revision[:7]
	}
	return i.Revision
}

// Version is the version as one SemVer-shaped string: the module version
// without its "v" ("1.2.3"), or "0.0.0-devel" for a build from a working
// tree, followed by "+REVISION" (and ".dirty" when modified) when the VCS
// revision was recorded: "0.0.0-devel+abc1234.dirty".
func (i Info) Version() string {
	v := strings.TrimPrefix(i.ModuleVersion, "v")
	if v == "" || v == "(devel)" {
		v = "0.0.0-devel"
	}
	if rev := i.ShortRevision(); rev != "" && !strings.Contains(v, "+") {
		v += "+" + rev
		if i.Modified {
			v += ".dirty"
		}
	}
	return v
}

// Version is the running binary's version; see Info.Version.
func Version() string { return Read().Version() }
