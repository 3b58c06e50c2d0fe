package farm

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/internal/etcdtest"
)

// protoFarm is one etcd, a client, and a key function under a prefix.
type protoFarm struct {
	srv   *etcdtest.Server
	cli   *clientv3.Client
	keyOf func(string) string
}

func newProtoFarm(t *testing.T) *protoFarm {
	t.Helper()
	srv := etcdtest.Start(t)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{"http://" + srv.Endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return &protoFarm{srv: srv, cli: cli, keyOf: func(name string) string { return "/test/" + name }}
}

// host registers a host named name serving h, until the test ends.
func (tf *protoFarm) host(t *testing.T, name string, h http.Handler) *Registration {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	reg := NewRegistration(tf.cli, tf.keyOf, name, NewID(), 5*time.Second)
	if err := reg.Claim(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = Serve(ctx, tf.cli, tf.keyOf, name, h, nil)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		reg.Release(context.Background())
	})
	// Serve watches from its start: wait until it does, by a ping.
	protoServing(t, tf, name)
	return reg
}

func protoServing(t *testing.T, tf *protoFarm, name string) {
	t.Helper()
	c := hostapi.NewClientTransport(name, NewTransport(tf.cli, tf.keyOf, name))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
		err := c.Do(cctx, http.MethodGet, "/v1/ping", nil, nil)
		ccancel()
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("host %s does not answer commands: %v", name, err)
		}
	}
}

// protoAPI is a control API with a few routes, as a host has.
func protoAPI(big int) http.Handler {
	s := hostapi.NewServer(hostapi.ServerOptions{HostUID: 12345, OperatorGroup: -1})
	s.Handle("GET /v1/apppools", hostapi.Read, func(context.Context, *http.Request) (any, error) {
		return []hostapi.PoolStatus{{Name: strings.Repeat("p", big)}}, nil
	})
	s.Handle("POST /v1/apppools/{name}/recycle", hostapi.Write, func(ctx context.Context, r *http.Request) (any, error) {
		from, ok := hostapi.FarmOperatorFrom(ctx)
		if !ok {
			return nil, errors.New("not a farm operator")
		}
		return map[string]string{"pool": r.PathValue("name"), "from": from}, nil
	})
	s.Handle("POST /v1/apppools", hostapi.Write, func(context.Context, *http.Request) (any, error) {
		return map[string]string{"created": "yes"}, nil
	})
	return s.Handler()
}

// TestTransportServeRoundTrip: a client call through etcd reaches the
// host's handler as a farm operator (a write route is admitted) and the
// reply comes back as from the socket.
func TestTransportServeRoundTrip(t *testing.T) {
	tf := newProtoFarm(t)
	tf.host(t, "h1", protoAPI(3))
	c := hostapi.NewClientTransport("h1", NewTransport(tf.cli, tf.keyOf, "h1"))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var pools []hostapi.PoolStatus
	if err := c.Do(ctx, http.MethodGet, "/v1/apppools", nil, &pools); err != nil {
		t.Fatal(err)
	}
	if len(pools) != 1 || pools[0].Name != "ppp" {
		t.Fatalf("pools = %+v", pools)
	}
	var out map[string]string
	if err := c.Do(ctx, http.MethodPost, "/v1/apppools/Shop/recycle", nil, &out); err != nil {
		t.Fatal(err)
	}
	if out["pool"] != "Shop" || !strings.Contains(out["from"], "@") {
		t.Fatalf("recycle answer = %v", out)
	}
	// The command and its answer go with their lease once read.
	waitUntil(t, func() error {
		resp, err := tf.cli.Get(ctx, tf.keyOf("farm/cmd/"), clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			return err
		}
		res, err := tf.cli.Get(ctx, tf.keyOf("farm/result/"), clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			return err
		}
		if resp.Count+res.Count != 0 {
			return errors.New("commands or results are left")
		}
		return nil
	})
}

// TestServeResultCap: an answer larger than MaxResultBody comes back as
// 507 naming the limit.
func TestServeResultCap(t *testing.T) {
	tf := newProtoFarm(t)
	tf.host(t, "h1", protoAPI(MaxResultBody+10))
	c := hostapi.NewClientTransport("h1", NewTransport(tf.cli, tf.keyOf, "h1"))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := c.Do(ctx, http.MethodGet, "/v1/apppools", nil, nil)
	var re *hostapi.RemoteError
	if !errors.As(err, &re) || re.Status != http.StatusInsufficientStorage || !strings.Contains(err.Error(), "1048576") {
		t.Fatalf("err = %v, want a 507 naming the limit", err)
	}
}

// TestServeAllowList: a route that is not allowed through etcd is refused
// with 403, although the peer is a farm operator.
func TestServeAllowList(t *testing.T) {
	tf := newProtoFarm(t)
	tf.host(t, "h1", protoAPI(1))
	c := hostapi.NewClientTransport("h1", NewTransport(tf.cli, tf.keyOf, "h1"))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := c.Do(ctx, http.MethodPost, "/v1/apppools", map[string]string{"name": "x"}, nil)
	if !errors.Is(err, hostapi.ErrForbidden) || !strings.Contains(err.Error(), "not allowed through etcd") {
		t.Fatalf("err = %v, want a refusal", err)
	}
	for _, tc := range []struct {
		method, path string
		ok           bool
	}{
		{"GET", "/v1/workers", true}, {"GET", "/v1/events?follow=1", true}, {"POST", "/v1/apppools/A/stop", true},
		{"POST", "/v1/reconcile", true}, {"DELETE", "/v1/apppools/A", false}, {"GET", "/v1/apppools/../x", false},
		{"POST", "/v1/apppools//recycle", false}, {"GET", "/v2/workers", false}, {"PUT", "/v1/status", false},
	} {
		if got := allowed(tc.method, tc.path); got != tc.ok {
			t.Errorf("allowed(%s %s) = %v, want %v", tc.method, tc.path, got, tc.ok)
		}
	}
}

// TestTransportHostGone: a host with no farm/alive key fails at once with
// ErrHostGone, and one that goes away while a command waits fails too.
func TestTransportHostGone(t *testing.T) {
	tf := newProtoFarm(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := hostapi.NewClientTransport("nobody", NewTransport(tf.cli, tf.keyOf, "nobody"))
	if err := c.Do(ctx, http.MethodGet, "/v1/status", nil, nil); !errors.Is(err, ErrHostGone) {
		t.Fatalf("err = %v, want ErrHostGone", err)
	}
	// A registered host that never answers, then releases its lease.
	reg := NewRegistration(tf.cli, tf.keyOf, "mute", NewID(), 5*time.Second)
	if err := reg.Claim(ctx); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		c := hostapi.NewClientTransport("mute", NewTransport(tf.cli, tf.keyOf, "mute"))
		errc <- c.Do(ctx, http.MethodGet, "/v1/status", nil, nil)
	}()
	// Release once the command is written.
	waitUntil(t, func() error {
		resp, err := tf.cli.Get(ctx, CommandPrefix(tf.keyOf, "mute"), clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			return err
		}
		if resp.Count == 0 {
			return errors.New("no command yet")
		}
		return nil
	})
	reg.Release(ctx)
	if err := <-errc; !errors.Is(err, ErrHostGone) {
		t.Fatalf("err = %v, want ErrHostGone", err)
	}
}

// TestServeIgnoresStaleCommands: commands written before the host started
// serving, and commands past their deadline, are not run.
func TestServeIgnoresStaleCommands(t *testing.T) {
	tf := newProtoFarm(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ran := make(chan string, 10)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran <- r.URL.Path
		_, _ = io.WriteString(w, "{}")
	})
	put := func(path string, deadline time.Time) string {
		cmd := Command{ID: NewID(), Method: "POST", Path: path, Deadline: deadline}
		data, _ := json.Marshal(cmd)
		if _, err := tf.cli.Put(ctx, CommandKey(tf.keyOf, "h1", cmd.ID), string(data)); err != nil {
			t.Fatal(err)
		}
		return cmd.ID
	}
	put("/v1/apppools/old/recycle", time.Now().Add(time.Minute)) // before the host serves
	tf.host(t, "h1", h)
	<-ran // the ping of tf.host
	put("/v1/apppools/late/recycle", time.Now().Add(-time.Second))
	id := put("/v1/apppools/new/recycle", time.Now().Add(time.Minute))
	waitUntil(t, func() error {
		resp, err := tf.cli.Get(ctx, ResultKey(tf.keyOf, "h1", id))
		if err != nil {
			return err
		}
		if len(resp.Kvs) == 0 {
			return errors.New("no result")
		}
		return nil
	})
	if got := <-ran; got != "/v1/apppools/new/recycle" {
		t.Fatalf("ran %s, want only the new command", got)
	}
	select {
	case got := <-ran:
		t.Fatalf("also ran %s", got)
	default:
	}
}

// TestClaimNameTaken: a second instance cannot take a live host's name;
// once the first releases it, it can.
func TestClaimNameTaken(t *testing.T) {
	tf := newProtoFarm(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a := NewRegistration(tf.cli, tf.keyOf, "h1", NewID(), 5*time.Second)
	b := NewRegistration(tf.cli, tf.keyOf, "h1", NewID(), 5*time.Second)
	if err := a.Claim(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Claim(ctx); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("second claim: err = %v, want ErrNameTaken", err)
	}
	if err := a.Publish(ctx, HostRecord{Name: "h1", Instance: a.Instance(), StoreVersion: "abc"}); err != nil {
		t.Fatal(err)
	}
	a.Release(ctx)
	if err := b.Claim(ctx); err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	recs, alive, _, err := ReadHosts(ctx, tf.cli, tf.keyOf)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].StoreVersion != "abc" || !alive["h1"] {
		t.Fatalf("recs = %+v, alive = %v", recs, alive)
	}
	if err := ValidateName("bad name"); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("ValidateName: %v", err)
	}
}

// waitFor polls cond until it is nil; the deadline is a failure guard.
func waitUntil(t *testing.T, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
