package etcdstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/poolctl/poolctl/store"
)

func u64(v uint64) *uint64 { return &v }

// TestEtcdStoreReadWrite: a new store is created with the default pool
// and site; Update writes; Replace and Read keep bytes exactly.
func TestEtcdStoreReadWrite(t *testing.T) {
	te := StartEtcd(t)
	st, _ := te.open(t, "rw")
	ctx := context.Background()
	c, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ApplicationPools) != 1 || c.ApplicationPools[0].Name != store.DefaultPoolName || c.Sites[0].Applications[0].PhysicalPath != WebRoot {
		t.Fatalf("new store = %+v", c)
	}
	if _, err := st.Update(ctx, func(c *store.Config) error {
		c.ApplicationPools = append(c.ApplicationPools, store.AppPool{Name: "A"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := st.Replace(ctx, []byte(handEdited)); err != nil {
		t.Fatal(err)
	}
	got, err := st.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, []byte(handEdited)) {
		t.Fatalf("read after replace:\n%s", got)
	}
	// An invalid change is refused and writes nothing.
	_, err = st.Update(ctx, func(c *store.Config) error {
		c.ApplicationPools = append(c.ApplicationPools, store.AppPool{Name: "a"})
		return nil
	})
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate pool: %v", err)
	}
	if got2, _ := st.Read(ctx); !bytes.Equal(got2, got) {
		t.Fatal("a refused write changed the store")
	}
}

// TestEtcdConcurrentWriters: 100 writers, each with its own client, change
// different pools and the same pools at once; no change is lost.
func TestEtcdConcurrentWriters(t *testing.T) {
	te := StartEtcd(t)
	seed, _ := te.open(t, "conc")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if _, err := seed.Update(ctx, func(c *store.Config) error {
		for i := range 50 {
			c.ApplicationPools = append(c.ApplicationPools, store.AppPool{Name: fmt.Sprintf("own%02d", i)})
		}
		for i := range 5 {
			c.ApplicationPools = append(c.ApplicationPools, store.AppPool{Name: fmt.Sprintf("shared%d", i)})
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	const writers = 100
	var wg sync.WaitGroup
	var tries atomic.Int64
	errs := make(chan error, writers)
	for w := range writers {
		st, _ := te.open(t, "conc")
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := st.Update(ctx, func(c *store.Config) error {
				tries.Add(1)
				var name string
				if w%2 == 0 {
					name = fmt.Sprintf("own%02d", w/2) // a pool of its own
				} else {
					name = fmt.Sprintf("shared%d", w%5) // shared with 9 others
				}
				for i := range c.ApplicationPools {
					p := &c.ApplicationPools[i]
					if p.Name != name {
						continue
					}
					if w%2 == 0 {
						p.QueueLength = u64(uint64(1000 + w))
						return nil
					}
					var vars []store.EnvironmentVariable
					if p.EnvironmentVariables != nil {
						vars = *p.EnvironmentVariables
					}
					vars = append(vars, store.EnvironmentVariable{Name: fmt.Sprintf("W%03d", w), Value: "1"})
					p.EnvironmentVariables = &vars
					return nil
				}
				return fmt.Errorf("pool %s missing", name)
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d writers, %d attempts (conflicts retried: %d)", writers, tries.Load(), tries.Load()-writers)
	c, err := seed.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]bool{}
	queues := map[string]uint64{}
	for _, p := range c.ApplicationPools {
		if p.QueueLength != nil {
			queues[p.Name] = *p.QueueLength
		}
		if p.EnvironmentVariables != nil {
			for _, v := range *p.EnvironmentVariables {
				vars[v.Name] = true
			}
		}
	}
	for w := range writers {
		if w%2 == 0 {
			if got := queues[fmt.Sprintf("own%02d", w/2)]; got != uint64(1000+w) {
				t.Errorf("writer %d: queueLength = %d: change lost", w, got)
			}
		} else if !vars[fmt.Sprintf("W%03d", w)] {
			t.Errorf("writer %d: environment variable lost", w)
		}
	}
}

// TestEtcdConflictTimeout: a writer that keeps conflicting gives up at its
// deadline with ErrLockTimeout, having written nothing.
func TestEtcdConflictTimeout(t *testing.T) {
	te := StartEtcd(t)
	a, _ := te.open(t, "busy")
	b, _ := te.open(t, "busy")
	ctx := context.Background()
	if _, err := a.Load(ctx); err != nil {
		t.Fatal(err)
	}
	before, _ := a.Read(ctx)
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	n := 0
	_, err := a.Update(short, func(c *store.Config) error {
		n++
		// Another writer changes the same pool between read and commit.
		if _, err := b.Update(ctx, func(c *store.Config) error {
			c.ApplicationPools[0].QueueLength = u64(uint64(100 + n))
			return nil
		}); err != nil {
			return err
		}
		c.ApplicationPools[0].AutoStart = new(bool)
		return nil
	})
	if !errors.Is(err, store.ErrLockTimeout) {
		t.Fatalf("err = %v, want ErrLockTimeout", err)
	}
	c, _ := a.Load(ctx)
	if c.ApplicationPools[0].AutoStart != nil {
		t.Fatal("the conflicting write was committed")
	}
	_ = before
}

// TestEtcdHistory: each write keeps the previous store as a snapshot, up
// to maxHistories, and a snapshot restores byte for byte.
func TestEtcdHistory(t *testing.T) {
	te := StartEtcd(t)
	st, _ := te.open(t, "hist")
	ctx := context.Background()
	var versions [][]byte
	v0, err := st.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	versions = append(versions, v0)
	for i := range 4 {
		if _, err := st.Update(ctx, func(c *store.Config) error {
			c.ConfigHistory.MaxHistories = u64(3)
			c.ApplicationPools = append(c.ApplicationPools, store.AppPool{Name: fmt.Sprintf("P%d", i)})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		v, _ := st.Read(ctx)
		versions = append(versions, v)
	}
	c, _ := st.Load(ctx)
	all, err := st.Backups(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Fatalf("%d snapshots, want 3: %+v", len(all), all)
	}
	for i, b := range all {
		if !b.History || b.Time.IsZero() {
			t.Fatalf("snapshot %+v", b)
		}
		// The three newest snapshots are versions 1, 2, 3 (4 is current).
		if err := st.RestoreBackup(ctx, c, b.Name); err != nil {
			t.Fatal(err)
		}
		got, _ := st.Read(ctx)
		if !bytes.Equal(got, versions[i+1]) {
			t.Fatalf("snapshot %s restored:\n%s\nwant:\n%s", b.Name, got, versions[i+1])
		}
	}
	name, err := st.AddBackup(ctx, "keep-me", time.Now())
	if err != nil || name != "keep-me" {
		t.Fatal(name, err)
	}
	if _, err := st.AddBackup(ctx, "KEEP-ME", time.Now()); !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate backup: %v", err)
	}
	if err := st.DeleteBackup(c, "keep-me"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteBackup(c, "keep-me"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete again: %v", err)
	}
}

// TestEtcdUnreachable: endpoints that do not answer make every operation
// fail with ErrUnavailable naming them.
func TestEtcdUnreachable(t *testing.T) {
	ep := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	loc, err := ParseLocation("etcd://" + ep + "/x")
	if err != nil {
		t.Fatal(err)
	}
	b := New(loc, 30*time.Second, func(string) string { return "" })
	defer b.Close()
	st := store.OpenBackend(b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = st.Load(ctx)
	if !errors.Is(err, store.ErrUnavailable) || !bytes.Contains([]byte(err.Error()), []byte(ep)) {
		t.Fatalf("err = %v, want ErrUnavailable naming %s", err, ep)
	}
}

// Test10000Pools: list and set at 10,000 pools (times logged).
func Test10000Pools(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	te := StartEtcd(t)
	st, _ := te.open(t, "big")
	ctx := context.Background()
	c := &store.Config{Version: store.FormatVersion}
	for i := range 10000 {
		c.ApplicationPools = append(c.ApplicationPools, store.AppPool{Name: fmt.Sprintf("pool%05d", i), PoolSettings: store.PoolSettings{QueueLength: u64(1000)}})
	}
	data, err := store.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := st.Replace(ctx, data); err != nil {
		t.Fatal(err)
	}
	t.Logf("import of %d bytes, 10,000 pools: %v", len(data), time.Since(start))
	start = time.Now()
	got, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("load: %v", time.Since(start))
	if len(got.ApplicationPools) != 10000 {
		t.Fatalf("%d pools", len(got.ApplicationPools))
	}
	start = time.Now()
	if _, err := st.Update(ctx, func(c *store.Config) error {
		c.ApplicationPools[5000].QueueLength = u64(50)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("set one pool: %v", time.Since(start))
	back, _ := st.Read(ctx)
	want := bytes.Replace(data, []byte("name = \"pool05000\"\nqueueLength = 1000\n"), []byte("name = \"pool05000\"\nqueueLength = 50\n"), 1)
	if !bytes.Equal(back, want) {
		t.Fatal("the store after one set is not the expected bytes")
	}
}

// TestEtcdLostMidway: etcd going away after the client connected is
// reported as unavailable too, not as a busy store, and nothing is written.
func TestEtcdLostMidway(t *testing.T) {
	te := StartEtcd(t)
	st, _ := te.open(t, "lost")
	ctx := context.Background()
	if _, err := st.Load(ctx); err != nil {
		t.Fatal(err)
	}
	te.Stop()
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := st.Update(short, func(c *store.Config) error {
		c.ApplicationPools = append(c.ApplicationPools, store.AppPool{Name: "X"})
		return nil
	})
	if !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), te.Endpoint) {
		t.Fatalf("err = %v, want ErrUnavailable naming %s", err, te.Endpoint)
	}
	te.Start()
	c, err := st.Load(ctx)
	if err != nil || len(c.ApplicationPools) != 1 {
		t.Fatalf("after etcd came back: %v, %d pools", err, len(c.ApplicationPools))
	}
}
