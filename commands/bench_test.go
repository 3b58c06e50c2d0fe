package commands

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/poolctl/poolctl/internal/storetest"
	"github.com/poolctl/poolctl/store"
)

// benchSizes are the store sizes every benchmark runs at.
var benchSizes = []int{10, 1000, 10000}

// benchStore writes a generated store of n pools in a temporary directory
// and returns the global flags that select it. The control socket does not
// exist, so no host is told about writes.
func benchStore(b *testing.B, n int) (path string, flags []string) {
	b.Helper()
	dir := b.TempDir()
	path = filepath.Join(dir, "applicationHost.toml")
	if err := storetest.WriteStore(path, n); err != nil {
		b.Fatal(err)
	}
	return path, []string{"poolctl", "--config", path, "--socket", filepath.Join(dir, "no-host.sock")}
}

// runMain runs Main with args, discarding its output, and fails b on a
// non-zero exit, running it again to show what it said.
func runMain(b *testing.B, ctx context.Context, args []string) {
	if code := Main(ctx, args, strings.NewReader(""), io.Discard, io.Discard); code != 0 {
		var stderr bytes.Buffer
		Main(ctx, args, strings.NewReader(""), io.Discard, &stderr)
		b.Fatalf("%s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
	}
}

// BenchmarkListNames measures 'poolctl list apppool /text:name' in-process:
// read, decode and validate the store, then print every pool's name.
func BenchmarkListNames(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("pools=%d", n), func(b *testing.B) {
			ctx := context.Background()
			_, flags := benchStore(b, n)
			args := append(flags, "list", "apppool", "/text:name")
			var out bytes.Buffer
			if code := Main(ctx, args, strings.NewReader(""), &out, io.Discard); code != 0 || strings.Count(out.String(), "\n") != n {
				b.Fatalf("list apppool /text:name: exit %d, %d lines, want %d", code, strings.Count(out.String(), "\n"), n)
			}
			for b.Loop() {
				runMain(b, ctx, args)
			}
		})
	}
}

// BenchmarkListTable measures 'poolctl list apppool', the human table:
// what BenchmarkListNames does, plus resolving each pool's effective
// settings and applications and laying out the table.
func BenchmarkListTable(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("pools=%d", n), func(b *testing.B) {
			ctx := context.Background()
			_, flags := benchStore(b, n)
			args := append(flags, "list", "apppool")
			for b.Loop() {
				runMain(b, ctx, args)
			}
		})
	}
}

// BenchmarkSetQueueLength measures 'poolctl set apppool Pool00005
// /queueLength:N' in-process, alternating two values so that every
// iteration writes: lock, read, decode, change, validate, encode, keep a
// history snapshot, write a temporary file, fsync, rename, fsync the
// directory.
func BenchmarkSetQueueLength(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("pools=%d", n), func(b *testing.B) {
			ctx := context.Background()
			path, flags := benchStore(b, n)
			pool := storetest.PoolName(min(5, n-1))
			set := [2][]string{
				append(append([]string{}, flags...), "set", "apppool", pool, "/queueLength:2000"),
				append(append([]string{}, flags...), "set", "apppool", pool, "/queueLength:3000"),
			}
			i := 0
			for b.Loop() {
				runMain(b, ctx, set[i%2])
				i++
			}
			b.StopTimer()
			c, err := store.Open(path).Load(ctx)
			if err != nil {
				b.Fatal(err)
			}
			want := uint64(2000 + 1000*((i-1)%2))
			if p := c.Pool(pool); p == nil || p.QueueLength == nil || *p.QueueLength != want {
				b.Fatalf("after %d sets %s does not have queueLength %d", i, pool, want)
			}
		})
	}
}

// BenchmarkLoad measures store.Load alone, the read, decode and validation
// that every command starts with.
func BenchmarkLoad(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("pools=%d", n), func(b *testing.B) {
			ctx := context.Background()
			path, _ := benchStore(b, n)
			s := store.Open(path)
			for b.Loop() {
				c, err := s.Load(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if len(c.ApplicationPools) != n {
					b.Fatalf("loaded %d pools, want %d", len(c.ApplicationPools), n)
				}
			}
		})
	}
}
