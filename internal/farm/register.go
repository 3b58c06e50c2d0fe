package farm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ErrLeaseLost means etcd no longer knows the host's lease (it expired
// while etcd was unreachable): the host claims its name again.
var ErrLeaseLost = errors.New("the host's lease expired")

// NameTakenError is the refusal of a name another live instance holds; it
// wraps ErrNameTaken.
type NameTakenError struct {
	Name, Instance, Key string
}

func (e *NameTakenError) Error() string {
	return fmt.Sprintf("host name %s is taken by a live host (instance %s holds %s): give this host another --host-name, or stop the other one", e.Name, e.Instance, e.Key)
}

// Unwrap lets errors.Is match ErrNameTaken.
func (e *NameTakenError) Unwrap() error { return ErrNameTaken }

// Registration is a host's presence in the farm: farm/alive/NAME under a
// lease that the host keeps alive, and the HostRecord it publishes in
// farm/hosts/NAME.
type Registration struct {
	cli      *clientv3.Client
	keyOf    func(string) string
	name     string
	instance string
	ttl      time.Duration

	mu    sync.Mutex
	lease clientv3.LeaseID
}

// NewRegistration returns the registration of the host name, started as
// instance (a NewID), with a lease of ttl (at least a second). Nothing is
// written until Claim.
func NewRegistration(cli *clientv3.Client, keyOf func(string) string, name, instance string, ttl time.Duration) *Registration {
	return &Registration{cli: cli, keyOf: keyOf, name: name, instance: instance, ttl: max(ttl, time.Second)}
}

// Name is the host's name.
func (r *Registration) Name() string { return r.name }

// Instance is the host's instance.
func (r *Registration) Instance() string { return r.instance }

// TTL is the lease's time to live.
func (r *Registration) TTL() time.Duration { return r.ttl }

// Claim grants a new lease and writes farm/alive/NAME (the instance) under
// it, unless another instance holds the name: then the error wraps
// ErrNameTaken and nothing stays written.
func (r *Registration) Claim(ctx context.Context) error {
	lease, err := r.cli.Grant(ctx, int64((r.ttl+time.Second-1)/time.Second))
	if err != nil {
		return fmt.Errorf("register host %s: grant a lease: %w", r.name, err)
	}
	key := AliveKey(r.keyOf, r.name)
	resp, err := r.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, r.instance, clientv3.WithLease(lease.ID))).
		Else(clientv3.OpGet(key)).
		Commit()
	if err == nil && !resp.Succeeded {
		kvs := resp.Responses[0].GetResponseRange().Kvs
		if len(kvs) > 0 && string(kvs[0].Value) != r.instance {
			r.revoke(ctx, lease.ID)
			return &NameTakenError{Name: r.name, Instance: string(kvs[0].Value), Key: key}
		}
		// Our own key under an older lease: move it to the new one.
		_, err = r.cli.Put(ctx, key, r.instance, clientv3.WithLease(lease.ID))
	}
	if err != nil {
		r.revoke(ctx, lease.ID)
		return fmt.Errorf("register host %s: %w", r.name, err)
	}
	r.mu.Lock()
	old := r.lease
	r.lease = lease.ID
	r.mu.Unlock()
	if old != 0 {
		r.revoke(ctx, old)
	}
	return nil
}

func (r *Registration) revoke(ctx context.Context, id clientv3.LeaseID) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, _ = r.cli.Revoke(rctx, id)
}

// KeepAlive renews the lease once. An error wrapping ErrLeaseLost means
// etcd no longer has it (Claim again); any other, that etcd did not answer.
func (r *Registration) KeepAlive(ctx context.Context) error {
	r.mu.Lock()
	id := r.lease
	r.mu.Unlock()
	if id == 0 {
		return fmt.Errorf("host %s: %w (never claimed)", r.name, ErrLeaseLost)
	}
	_, err := r.cli.KeepAliveOnce(ctx, id)
	if errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return fmt.Errorf("host %s: %w", r.name, ErrLeaseLost)
	}
	if err != nil {
		return fmt.Errorf("host %s: renew its lease: %w", r.name, err)
	}
	return nil
}

// Publish writes the host's record to farm/hosts/NAME (no lease: it
// survives the host).
func (r *Registration) Publish(ctx context.Context, rec HostRecord) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode host record: %w", err)
	}
	if _, err := r.cli.Put(ctx, HostKey(r.keyOf, r.name), string(data)); err != nil {
		return fmt.Errorf("publish host %s: %w", r.name, err)
	}
	return nil
}

// Release revokes the lease, so farm/alive/NAME goes at once (a host that
// stops cleanly); the record stays.
func (r *Registration) Release(ctx context.Context) {
	r.mu.Lock()
	id := r.lease
	r.lease = 0
	r.mu.Unlock()
	if id != 0 {
		r.revoke(ctx, id)
	}
}
