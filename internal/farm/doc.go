// Package farm is the web farm's protocol in etcd: the hosts that follow a
// store in etcd register under the store's prefix (farm/hosts/NAME, and
// farm/alive/NAME under a lease), and answer control-API requests that the
// tool sends as commands through etcd (farm/cmd/NAME/ID, answered in
// farm/result/NAME/ID), so the farm needs no network port of its own.
// Who may read, write and command is etcd's role-based access control.
package farm
