package farm

// KeyFunc maps a key name relative to the store's prefix ("farm/hosts/h1")
// to the etcd key (etcdstore.Backend.Key).
type KeyFunc func(name string) string

// Key names, relative to the store's prefix.
const (
	hostsDir  = "farm/hosts/"
	aliveDir  = "farm/alive/"
	cmdDir    = "farm/cmd/"
	resultDir = "farm/result/"
)

// HostsPrefix is the key prefix of every HostRecord.
func HostsPrefix(keyOf func(string) string) string { return keyOf(hostsDir) }

// AlivePrefix is the key prefix of every host's liveness key.
func AlivePrefix(keyOf func(string) string) string { return keyOf(aliveDir) }

// HostKey is the key of a host's HostRecord.
func HostKey(keyOf func(string) string, name string) string { return keyOf(hostsDir + name) }

// AliveKey is the key of a host's liveness key, under its lease.
func AliveKey(keyOf func(string) string, name string) string { return keyOf(aliveDir + name) }

// CommandPrefix is the key prefix of the commands sent to a host.
func CommandPrefix(keyOf func(string) string, name string) string {
	return keyOf(cmdDir + name + "/")
}

// CommandKey is the key of one command.
func CommandKey(keyOf func(string) string, name, id string) string {
	return keyOf(cmdDir + name + "/" + id)
}

// ResultKey is the key of the answer to one command.
func ResultKey(keyOf func(string) string, name, id string) string {
	return keyOf(resultDir + name + "/" + id)
}
