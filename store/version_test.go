package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestStoreVersion: Load and Update set the version of the bytes on disk;
// a change of the file changes it, the same bytes give the same one.
func TestStoreVersion(t *testing.T) {
	ctx := context.Background()
	s := Open(filepath.Join(t.TempDir(), "poolctl.toml"))
	c1, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(s.Path)
	if err != nil {
		t.Fatal(err)
	}
	if c1.StoreVersion() == "" || c1.StoreVersion() != VersionOf(data) {
		t.Fatalf("loaded version %q, want VersionOf(file) %q", c1.StoreVersion(), VersionOf(data))
	}
	var written *Config
	if _, err := s.Update(ctx, func(c *Config) error {
		written = c
		c.ApplicationPools = append(c.ApplicationPools, AppPool{Name: "Versioned"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c2, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c2.StoreVersion() == c1.StoreVersion() {
		t.Errorf("version %q unchanged by a write", c2.StoreVersion())
	}
	if written.StoreVersion() != c2.StoreVersion() {
		t.Errorf("Update set %q, the file loads as %q", written.StoreVersion(), c2.StoreVersion())
	}
	c3, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c3.StoreVersion() != c2.StoreVersion() {
		t.Errorf("same bytes, versions %q and %q", c3.StoreVersion(), c2.StoreVersion())
	}
	if (&Config{}).StoreVersion() != "" {
		t.Error("a configuration built in memory has a version")
	}
}
