package farm

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/poolctl/poolctl/internal/etcdtest"
	"github.com/poolctl/poolctl/store"
)

// testFarm is an embedded etcd with a client and the key function of
// prefix "p".
func testFarm(t *testing.T) (*clientv3.Client, func(string) string) {
	t.Helper()
	srv := etcdtest.Start(t)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{"http://" + srv.Endpoint}, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli, func(name string) string { return "/p/" + name }
}

// publish writes a host's record and, when alive, its alive key.
func publish(t *testing.T, cli *clientv3.Client, keyOf func(string) string, rec HostRecord, alive bool) {
	t.Helper()
	data, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := cli.Put(ctx, HostKey(keyOf, rec.Name), string(data)); err != nil {
		t.Fatal(err)
	}
	if alive {
		_, err = cli.Put(ctx, AliveKey(keyOf, rec.Name), rec.Instance)
	} else {
		_, err = cli.Delete(ctx, AliveKey(keyOf, rec.Name))
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestWaitApplied: the wait ends when the last live host publishes the
// version; a Gone host is not waited for; on timeout Pending names the
// hosts that had not applied it, and a later store revision counts.
func TestWaitApplied(t *testing.T) {
	cli, keyOf := testFarm(t)
	publish(t, cli, keyOf, HostRecord{Name: "h1", Instance: "i1", StoreVersion: "v2"}, true)
	publish(t, cli, keyOf, HostRecord{Name: "h2", Instance: "i2", StoreVersion: "v1", StoreRevision: 3}, true)
	publish(t, cli, keyOf, HostRecord{Name: "h3", Instance: "i3", StoreVersion: "v1"}, false) // Gone

	// Timeout: h2 has not applied v2.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	ack, err := WaitApplied(ctx, cli, keyOf, Applied{Version: "v2"})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ack.Live, []string{"h1", "h2"}) || !slices.Equal(ack.Pending, []string{"h2"}) {
		t.Fatalf("ack %+v, want live h1,h2 and pending h2", ack)
	}

	// h2 applies it while the tool waits (watch, no deadline but a guard).
	done := make(chan Ack, 1)
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		ack, err := WaitApplied(ctx, cli, keyOf, Applied{Version: "v2"})
		errc <- err
		done <- ack
	}()
	publish(t, cli, keyOf, HostRecord{Name: "h2", Instance: "i2", StoreVersion: "v2"}, true)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if ack := <-done; len(ack.Pending) != 0 || len(ack.Live) != 2 {
		t.Fatalf("ack %+v, want all applied", ack)
	}

	// A host that applied a later store (revision at or past the write's)
	// has applied the write; one that turns Gone is no longer waited for.
	publish(t, cli, keyOf, HostRecord{Name: "h1", Instance: "i1", StoreVersion: "v9", StoreRevision: 50}, true)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		ack, err := WaitApplied(ctx, cli, keyOf, Applied{Version: "v3", Revision: 40})
		errc <- err
		done <- ack
	}()
	publish(t, cli, keyOf, HostRecord{Name: "h2", Instance: "i2", StoreVersion: "v2"}, false)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if ack := <-done; len(ack.Pending) != 0 || !slices.Equal(ack.Live, []string{"h1"}) {
		t.Fatalf("ack %+v, want h1 live and applied", ack)
	}
}

// TestWaitAppliedNoHost: with no live host there is nothing to wait for.
func TestWaitAppliedNoHost(t *testing.T) {
	cli, keyOf := testFarm(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ack, err := WaitApplied(ctx, cli, keyOf, Applied{Version: "v1"})
	if err != nil || len(ack.Live) != 0 || len(ack.Pending) != 0 {
		t.Fatalf("ack %+v err %v", ack, err)
	}
}

// TestForget: a Gone host's record is deleted; a live host's is refused
// (ErrInUse) and an unknown host is ErrNotFound.
func TestForget(t *testing.T) {
	cli, keyOf := testFarm(t)
	publish(t, cli, keyOf, HostRecord{Name: "h1", Instance: "i1"}, true)
	publish(t, cli, keyOf, HostRecord{Name: "h2", Instance: "i2"}, false)
	ctx := context.Background()
	if err := Forget(ctx, cli, keyOf, "h1"); !errors.Is(err, store.ErrInUse) {
		t.Fatalf("forget a live host: %v", err)
	}
	if err := Forget(ctx, cli, keyOf, "h2"); err != nil {
		t.Fatal(err)
	}
	if err := Forget(ctx, cli, keyOf, "h2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("forget twice: %v", err)
	}
	recs, _, _, err := ReadHosts(ctx, cli, keyOf)
	if err != nil || len(recs) != 1 || recs[0].Name != "h1" {
		t.Fatalf("records %v err %v", recs, err)
	}
}
