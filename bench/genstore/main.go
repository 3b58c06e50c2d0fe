// Command genstore writes a synthetic poolctl store of N pools for the
// benchmarks in bench/cli.sh: pools Pool00000 ... in the format poolctl
// writes, every third one setting queueLength and processModel.idleTimeout,
// and one site whose root application runs in Pool00000. It is the same
// generator the in-process benchmarks use (internal/storetest).
//
// Usage:
//
//	go run ./bench/genstore -pools 1000 -out bench/out/stores/1000/applicationHost.toml
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/poolctl/poolctl/internal/storetest"
)

func main() {
	pools := flag.Int("pools", 1000, "number of pools")
	out := flag.String("out", "", "store file to write (its directory is created)")
	flag.Parse()
	if err := run(*pools, *out); err != nil {
		fmt.Fprintln(os.Stderr, "genstore:", err)
		os.Exit(2)
	}
}

func run(pools int, out string) error {
	if out == "" || flag.NArg() > 0 {
		return fmt.Errorf("usage: genstore -pools N -out FILE")
	}
	if pools < 1 {
		return fmt.Errorf("-pools %d: need at least one pool", pools)
	}
	return storetest.WriteStore(out, pools)
}
