package etcdstore

import (
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Client returns the backend's etcd client, creating it on first use, for
// the parts of poolctl that keep more than the store under the prefix
// (package internal/farm: host registration and runtime commands). The
// backend owns it: Close releases it.
func (b *Backend) Client() (*clientv3.Client, error) { return b.getClient() }

// Key returns the etcd key of name under the store's prefix: Key("farm/")
// is "/PREFIX/farm/".
func (b *Backend) Key(name string) string { return b.loc.key(name) }

// Endpoints returns the etcd endpoints the store was opened with, for
// messages.
func (b *Backend) Endpoints() []string { return append([]string(nil), b.loc.Endpoints...) }
