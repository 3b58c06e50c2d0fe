// Package etcdstore keeps poolctl's store in etcd: the configuration split
// into a manifest and hashed buckets of pools and sites (so that writers
// changing different pools rarely conflict), written in transactions
// guarded by the revisions read, with history snapshots and named backups
// beside it. Open turns a --config value into a store.Store.
package etcdstore
