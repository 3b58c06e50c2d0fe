package etcdstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"

	"github.com/poolctl/poolctl/store"
)

// connectTimeout bounds the first request to etcd: endpoints that do not
// answer within it make the store unavailable, whatever --timeout says.
const connectTimeout = 5 * time.Second

// WebRoot is the physicalPath of a new etcd store's default site: the hosts
// that follow the store are other machines, so no path beside the store
// file applies.
const WebRoot = "/var/www/poolctl"

// Backend is a store.Backend in etcd. Its client is created on first use.
type Backend struct {
	loc     Location
	timeout time.Duration // bound of calls whose ctx has no deadline
	getenv  func(string) string

	mu        sync.Mutex
	client    *clientv3.Client
	connected bool // a request succeeded: later failures are not "unreachable"
}

// New returns the backend for loc; timeout bounds calls made without a
// deadline. Nothing connects until the first call.
func New(loc Location, timeout time.Duration, getenv func(string) string) *Backend {
	return &Backend{loc: loc, timeout: timeout, getenv: getenv}
}

// Location implements store.Backend.
func (b *Backend) Location() string { return b.loc.String() }

// WebRoot implements store.Backend.
func (b *Backend) WebRoot() string { return WebRoot }

// Close releases the client.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.client == nil {
		return nil
	}
	err := b.client.Close()
	b.client = nil
	return err
}

func (b *Backend) getClient() (*clientv3.Client, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.client != nil {
		return b.client, nil
	}
	cr, err := readCredentials(b.getenv)
	if err != nil {
		return nil, err
	}
	eps := make([]string, len(b.loc.Endpoints))
	for i, ep := range b.loc.Endpoints {
		if cr.tls != nil {
			eps[i] = "https://" + ep
		} else {
			eps[i] = "http://" + ep
		}
	}
	c, err := clientv3.New(clientv3.Config{
		Endpoints:            eps,
		DialTimeout:          connectTimeout,
		DialKeepAliveTime:    30 * time.Second,
		DialKeepAliveTimeout: 10 * time.Second,
		TLS:                  cr.tls,
		Username:             cr.user,
		Password:             cr.password,
		Logger:               zap.NewNop(),
		MaxCallSendMsgSize:   2 << 20,
	})
	if err != nil {
		return nil, b.classify(err)
	}
	b.client = c
	return c, nil
}

// bound gives ctx a deadline when it has none. The first request is also
// ended once connectTimeout has passed while etcd's connection is failing
// (refused, unreachable), so that an etcd that is down is reported
// promptly; a connection still being made or made already, which on a
// loaded machine can take longer than that, runs to the caller's deadline.
func (b *Backend) bound(ctx context.Context, c *clientv3.Client) (context.Context, context.CancelFunc) {
	b.mu.Lock()
	first := !b.connected
	b.mu.Unlock()
	cancel := context.CancelFunc(func() {})
	if _, ok := ctx.Deadline(); !ok && b.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, b.timeout)
	}
	if !first {
		return ctx, cancel
	}
	ctx, cancelFirst := context.WithCancel(ctx)
	go endWhenFailing(ctx, c, cancelFirst)
	return ctx, func() { cancelFirst(); cancel() }
}

// endWhenFailing calls end when, connectTimeout after the call began,
// the client's connection is failing or shut down, or turns so later;
// it returns when ctx ends.
func endWhenFailing(ctx context.Context, c *clientv3.Client, end context.CancelFunc) {
	t := time.NewTimer(connectTimeout)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return
	case <-t.C:
	}
	conn := c.ActiveConnection()
	for {
		s := conn.GetState()
		if s == connectivity.TransientFailure || s == connectivity.Shutdown {
			end()
			return
		}
		if !conn.WaitForStateChange(ctx, s) {
			return
		}
	}
}

// do runs one request.
func (b *Backend) do(ctx context.Context, fn func(context.Context, *clientv3.Client) error) error {
	c, err := b.getClient()
	if err != nil {
		return err
	}
	rctx, cancel := b.bound(ctx, c)
	defer cancel()
	if err := fn(rctx, c); err != nil {
		// The caller's time ran out while etcd is still connected: the
		// store is busy (a write that kept conflicting), not unreachable.
		if ctx.Err() != nil && b.isConnected() && c.ActiveConnection().GetState() == connectivity.Ready {
			return fmt.Errorf("%w (etcd at %s): %w", store.ErrLockTimeout, strings.Join(b.loc.Endpoints, ","), ctx.Err())
		}
		return b.classify(err)
	}
	b.mu.Lock()
	b.connected = true
	b.mu.Unlock()
	return nil
}

func (b *Backend) isConnected() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.connected
}

// classify wraps an etcd error with the sentinel the tool maps to an exit
// code, naming the endpoints.
func (b *Backend) classify(err error) error {
	eps := strings.Join(b.loc.Endpoints, ",")
	switch {
	case errors.Is(err, rpctypes.ErrAuthFailed), errors.Is(err, rpctypes.ErrPermissionDenied),
		errors.Is(err, rpctypes.ErrInvalidAuthToken), errors.Is(err, rpctypes.ErrUserEmpty),
		errors.Is(err, rpctypes.ErrAuthNotEnabled), errors.Is(err, rpctypes.ErrGRPCAuthFailed),
		errors.Is(err, rpctypes.ErrGRPCPermissionDenied):
		return fmt.Errorf("etcd at %s refused %s: %w: %w", eps, b.who(), fs.ErrPermission, err)
	case errors.Is(err, rpctypes.ErrRequestTooLarge), errors.Is(err, rpctypes.ErrGRPCRequestTooLarge),
		status.Code(err) == codes.ResourceExhausted:
		return fmt.Errorf("%w: the write is larger than etcd at %s accepts in one request (its --max-request-bytes, 1.5 MiB by default): %w", store.ErrInvalid, eps, err)
	case errors.Is(err, rpctypes.ErrTooManyOps), errors.Is(err, rpctypes.ErrGRPCTooManyOps):
		return fmt.Errorf("%w: etcd at %s allows fewer operations per transaction than poolctl needs (at most %d; raise its --max-txn-ops): %w", store.ErrInvalid, eps, poolBuckets+siteBuckets+1, err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return fmt.Errorf("%w: etcd at %s did not answer: %w", store.ErrUnavailable, eps, err)
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return fmt.Errorf("%w: etcd at %s did not answer: %w", store.ErrUnavailable, eps, err)
	case codes.PermissionDenied, codes.Unauthenticated:
		return fmt.Errorf("etcd at %s refused %s: %w: %w", eps, b.who(), fs.ErrPermission, err)
	}
	return fmt.Errorf("etcd at %s: %w", eps, err)
}

func (b *Backend) who() string {
	if u := b.getenv(EnvUser); u != "" {
		return "user " + u
	}
	return "the request (no " + EnvUser + " set)"
}

// snapshot is the document as read at one revision.
type snapshot struct {
	rev       int64            // the store's revision of the read
	exists    bool             // PREFIX/config exists
	configRev int64            // mod revision of PREFIX/config
	modRevs   map[string]int64 // mod revision of each bucket key read
	layout    *layout
}

// readSnapshot reads the manifest and every bucket in one transaction, so
// at one revision (rev > 0: at that past revision).
func (b *Backend) readSnapshot(ctx context.Context, rev int64) (*snapshot, error) {
	var opts []clientv3.OpOption
	if rev > 0 {
		opts = append(opts, clientv3.WithRev(rev))
	}
	var resp *clientv3.TxnResponse
	err := b.do(ctx, func(ctx context.Context, c *clientv3.Client) error {
		var err error
		resp, err = c.Txn(ctx).Then(
			clientv3.OpGet(b.loc.key("config"), opts...),
			clientv3.OpGet(b.loc.key("apppools/"), append([]clientv3.OpOption{clientv3.WithPrefix()}, opts...)...),
			clientv3.OpGet(b.loc.key("sites/"), append([]clientv3.OpOption{clientv3.WithPrefix()}, opts...)...),
		).Commit()
		return err
	})
	if err != nil {
		return nil, err
	}
	s := &snapshot{rev: resp.Header.Revision, modRevs: map[string]int64{}}
	cfg := resp.Responses[0].GetResponseRange()
	if len(cfg.Kvs) == 0 {
		return s, nil
	}
	s.exists = true
	s.configRev = cfg.Kvs[0].ModRevision
	m, err := decodeManifest(cfg.Kvs[0].Value)
	if err != nil {
		return nil, err
	}
	s.layout = &layout{manifest: m, buckets: map[string]bucket{}}
	root := b.loc.key("")
	for _, r := range resp.Responses[1:] {
		for _, kv := range r.GetResponseRange().Kvs {
			name := strings.TrimPrefix(string(kv.Key), root)
			bk, err := decodeBucket(name, kv.Value)
			if err != nil {
				return nil, err
			}
			s.layout.buckets[name] = bk
			s.modRevs[name] = kv.ModRevision
		}
	}
	return s, nil
}

// Read implements store.Backend.
func (b *Backend) Read(ctx context.Context) ([]byte, error) {
	s, err := b.readSnapshot(ctx, 0)
	if err != nil || !s.exists {
		return nil, err
	}
	return s.layout.join()
}

// Write implements store.Backend: read at one revision, produce, split, and
// commit in a transaction guarded by what was read; on a conflict, start
// again with a fresh read, until ctx ends.
func (b *Backend) Write(ctx context.Context, produce func(old []byte) ([]byte, *store.Config, error)) (bool, error) {
	if _, ok := ctx.Deadline(); !ok && b.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.timeout)
		defer cancel()
	}
	delay := time.Millisecond
	for attempt := 1; ; attempt++ {
		s, err := b.readSnapshot(ctx, 0)
		if err != nil {
			return false, err
		}
		var old []byte
		if s.exists {
			if old, err = s.layout.join(); err != nil {
				return false, err
			}
		}
		data, next, err := produce(old)
		if err != nil {
			return false, err
		}
		if old != nil && bytes.Equal(data, old) {
			return false, nil
		}
		l, err := splitLayout(data, next, s.layout)
		if err != nil {
			return false, err
		}
		txn, err := b.plan(s, l)
		if err != nil {
			return false, err
		}
		var resp *clientv3.TxnResponse
		err = b.do(ctx, func(rctx context.Context, c *clientv3.Client) error {
			var err error
			resp, err = c.Txn(rctx).If(txn.cmps...).Then(txn.ops...).Commit()
			return err
		})
		if err != nil {
			return false, err
		}
		if resp.Succeeded {
			if old == nil {
				return true, nil
			}
			if err := b.keepHistory(ctx, next, old, s.rev, resp.Header.Revision); err != nil {
				return true, fmt.Errorf("the store was written, but its history was not kept: %w", err)
			}
			return true, nil
		}
		// Another writer changed what this write read: wait a little
		// (randomised, growing) and redo it on the new state.
		t := time.NewTimer(delay/2 + rand.N(delay))
		select {
		case <-ctx.Done():
			t.Stop()
			return false, fmt.Errorf("%w: %d attempts to write %s conflicted with other writers: %w", store.ErrLockTimeout, attempt, b.Location(), ctx.Err())
		case <-t.C:
		}
		delay = min(delay*2, 100*time.Millisecond)
	}
}

// txnPlan is the guarded transaction of one write.
type txnPlan struct {
	cmps []clientv3.Cmp
	ops  []clientv3.Op
}

// plan compares the new layout with the snapshot's: it puts the buckets and
// the manifest that changed and deletes emptied buckets, guarded by the mod
// revisions read of every key it changes and of the manifest (which names
// every pool and site and holds the defaults every pool inherits). A write
// that changes a site also guards every site bucket (bindings and ids are
// unique across sites); one that changes the manifest guards everything.
func (b *Backend) plan(s *snapshot, l *layout) (*txnPlan, error) {
	p := &txnPlan{}
	p.cmps = append(p.cmps, clientv3.Compare(clientv3.ModRevision(b.loc.key("config")), "=", s.configRev))
	var oldManifest []byte
	if s.exists {
		var err error
		if oldManifest, err = encodeManifest(s.layout.manifest); err != nil {
			return nil, err
		}
	}
	newManifest, err := encodeManifest(l.manifest)
	if err != nil {
		return nil, err
	}
	manifestChanged := !bytes.Equal(oldManifest, newManifest)
	sitesChanged := false
	var oldBuckets map[string]bucket
	if s.layout != nil {
		oldBuckets = s.layout.buckets
	}
	for name, bk := range l.buckets {
		old, had := oldBuckets[name]
		if had && equalBuckets(old, bk) {
			continue
		}
		v, err := encodeBucket(bk)
		if err != nil {
			return nil, err
		}
		p.cmps = append(p.cmps, clientv3.Compare(clientv3.ModRevision(b.loc.key(name)), "=", s.modRevs[name]))
		p.ops = append(p.ops, clientv3.OpPut(b.loc.key(name), string(v)))
		sitesChanged = sitesChanged || strings.HasPrefix(name, "sites/")
	}
	for name := range oldBuckets {
		if _, ok := l.buckets[name]; ok {
			continue
		}
		p.cmps = append(p.cmps, clientv3.Compare(clientv3.ModRevision(b.loc.key(name)), "=", s.modRevs[name]))
		p.ops = append(p.ops, clientv3.OpDelete(b.loc.key(name)))
		sitesChanged = sitesChanged || strings.HasPrefix(name, "sites/")
	}
	if manifestChanged {
		p.ops = append(p.ops, clientv3.OpPut(b.loc.key("config"), string(newManifest)))
		p.cmps = append(p.cmps, clientv3.Compare(clientv3.ModRevision(b.loc.key("apppools/")), "<", s.rev+1).WithPrefix())
	}
	if manifestChanged || sitesChanged {
		p.cmps = append(p.cmps, clientv3.Compare(clientv3.ModRevision(b.loc.key("sites/")), "<", s.rev+1).WithPrefix())
	}
	return p, nil
}

func equalBuckets(a, b bucket) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
