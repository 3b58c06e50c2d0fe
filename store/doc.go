// Package store is poolctl's configuration store: the desired state of
// application pools, sites, applications and virtual directories, kept in one
// TOML file in the spirit of IIS's applicationHost.config.
//
// Only explicitly set values are written. The effective value of a pool
// property is the pool's own value, else the applicationPoolDefaults value,
// else the schema default (see Schema). Every mutation runs under an
// exclusive flock on a sidecar "<store>.lock" file and replaces the store
// atomically (temporary file, fsync, rename, directory fsync), after
// validating the whole configuration; readers never lock and always see a
// whole file. The previous version of the file is kept as a history snapshot
// before each write.
package store
