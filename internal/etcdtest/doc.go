// Package etcdtest runs etcd inside a test process (go.etcd.io/etcd/server/v3/embed):
// a one-member server or a 3-member cluster on 127.0.0.1 with random
// ports, data under t.TempDir, stopped at cleanup. Import it from tests
// only: the server is heavy.
package etcdtest
