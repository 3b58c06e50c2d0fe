// Package storetest holds process-level tests of the configuration store:
// they build the real poolctl binary and run it as separate processes, many
// writers at once, writers killed with SIGKILL in the middle of a write, and
// a writer that meets a lock held by someone else, and check that the store
// stays a whole, valid file that loses no update.
//
// The package also provides GenerateStore, the synthetic store of N pools
// shared by the in-process benchmarks (commands/bench_test.go) and the
// whole-process benchmark script (bench/genstore, bench/cli.sh), so every
// figure is measured on the same file.
package storetest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// PoolName is the name of generated pool i: Pool00000, Pool00001 ...
func PoolName(i int) string { return fmt.Sprintf("Pool%05d", i) }

// GenerateStore returns a store file holding n pools (n >= 1) named by
// PoolName, written in the format poolctl itself writes, so the first
// mutation of a generated store changes only what it sets. Every third pool
// sets queueLength and processModel.idleTimeout; the others inherit
// everything. One site, "Default Web Site" (id 1, binding http/*:8080:), has
// a root application in Pool00000 served from physicalPath.
func GenerateStore(n int, physicalPath string) []byte {
	n = max(n, 1)
	var b strings.Builder
	b.Grow(n * 64)
	b.WriteString("# poolctl configuration store. Edit with 'poolctl'; hand edits are validated on the next load.\n")
	b.WriteString("version = 1\n\n[configHistory]\n\n[applicationPoolDefaults]\n")
	for i := range n {
		b.WriteString("\n[[applicationPools]]\nname = \"")
		b.WriteString(PoolName(i))
		b.WriteString("\"\n")
		if i%3 == 0 {
			b.WriteString("queueLength = ")
			b.WriteString(strconv.Itoa(1000 + i%4000))
			b.WriteString("\n[applicationPools.processModel]\nidleTimeout = \"00:")
			fmt.Fprintf(&b, "%02d", 1+i%59)
			b.WriteString(":00\"\n")
		}
	}
	b.WriteString("\n[[sites]]\nname = \"Default Web Site\"\nid = 1\n")
	b.WriteString("\n[[sites.bindings]]\nprotocol = \"http\"\nbindingInformation = \"*:8080:\"\n")
	b.WriteString("\n[[sites.applications]]\npath = \"/\"\napplicationPool = \"")
	b.WriteString(PoolName(0))
	b.WriteString("\"\nphysicalPath = ")
	b.WriteString(strconv.Quote(physicalPath))
	b.WriteString("\n")
	return []byte(b.String())
}

// WriteStore writes a generated store of n pools to path, creating its
// directory; the site's physical path is wwwroot beside the store, as
// poolctl's own default site has.
func WriteStore(path string, n int) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(filepath.Join(dir, "wwwroot"), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, GenerateStore(n, filepath.Join(dir, "wwwroot")), 0o644)
}
