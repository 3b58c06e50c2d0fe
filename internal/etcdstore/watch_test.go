package etcdstore

import (
	"context"
	"testing"
	"time"

	"github.com/poolctl/poolctl/store"
)

// TestEtcdWatch: ReadRevision gives the bytes and their revision; Watch
// from there reports a change of the store, and not the writes to other
// keys under the prefix (farm/).
func TestEtcdWatch(t *testing.T) {
	te := StartEtcd(t)
	st, b := te.open(t, "watch")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := st.Load(ctx); err != nil { // creates the store
		t.Fatal(err)
	}
	data, rev, err := b.ReadRevision(ctx)
	if err != nil || data == nil || rev == 0 {
		t.Fatalf("ReadRevision = %d bytes, rev %d, %v", len(data), rev, err)
	}
	ch, err := b.Watch(ctx, rev)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := b.Client()
	if err != nil {
		t.Fatal(err)
	}
	farmPut, err := cli.Put(ctx, b.Key("farm/hosts/h1"), "{}")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Update(ctx, func(c *store.Config) error {
		c.ApplicationPools = append(c.ApplicationPools, store.AppPool{Name: "Watched"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-ch:
		if got <= farmPut.Header.Revision {
			t.Fatalf("first change reported at revision %d, the farm write was %d", got, farmPut.Header.Revision)
		}
		data2, rev2, err := b.ReadRevision(ctx)
		if err != nil || rev2 < got || string(data2) == string(data) {
			t.Fatalf("after the change: rev %d (reported %d), changed %v, %v", rev2, got, string(data2) != string(data), err)
		}
	case <-ctx.Done():
		t.Fatal("no change reported")
	}
	cancel()
	for range ch { // closed once ctx ends
	}
}
