package farm

import (
	"errors"
	"fmt"
	"time"
)

// HostRecord is what a host publishes about itself in farm/hosts/NAME. It
// has no lease: the last report survives the host.
type HostRecord struct {
	Name          string    `json:"name"`
	Instance      string    `json:"instance"`      // random per start
	Addresses     []string  `json:"addresses"`     // "IP:PORT" of every binding it listens on (after --listen-address)
	Version       string    `json:"version"`       // poolctl version
	StoreVersion  string    `json:"storeVersion"`  // store.VersionOf of the configuration it applied last ("" before the first)
	StoreRevision int64     `json:"storeRevision"` // etcd revision of the store it applied
	Generation    uint64    `json:"generation"`    // the host's apply generation
	Connected     bool      `json:"connected"`     // false: etcd unreachable, serving what it applied
	Offline       bool      `json:"offline"`       // serving from its local copy (started while etcd was down)
	PendingSince  time.Time `json:"pendingSince,omitzero"`
	Pools         int       `json:"pools"`
	PoolsStarted  int       `json:"poolsStarted"`
	Workers       int       `json:"workers"`
	Started       time.Time `json:"started"`
	Updated       time.Time `json:"updated"`
}

// Command is a control-API request sent to one host through etcd.
type Command struct {
	ID       string            `json:"id"`
	Method   string            `json:"method"`
	Path     string            `json:"path"`   // "/v1/..." as on the control socket
	Header   map[string]string `json:"header"` // only the API version header and Content-Type are honoured
	Body     []byte            `json:"body,omitempty"`
	Deadline time.Time         `json:"deadline"`
	From     string            `json:"from"` // "user@machine" of the tool, for the host's log
}

// Result is a host's answer to a Command.
type Result struct {
	Status int               `json:"status"`
	Header map[string]string `json:"header,omitempty"`
	Body   []byte            `json:"body,omitempty"` // at most MaxResultBody
}

// MaxResultBody bounds a Result's body: etcd refuses requests over
// 1.5 MiB by default. A larger answer is replaced by status 507 and an
// error naming the limit.
const MaxResultBody = 1 << 20

// maxCommandBody bounds a Command's body, for the same reason.
const maxCommandBody = 1 << 20

// Errors of the farm.
var (
	// ErrHostGone means the host has no farm/alive key: it is not running
	// or lost its lease.
	ErrHostGone = errors.New("host is gone")
	// ErrNameTaken means a live host already uses the name.
	ErrNameTaken = errors.New("host name is taken by a live host")
	// ErrInvalidName means a host name does not match NamePattern.
	ErrInvalidName = errors.New("invalid host name")
)

// NamePattern is what a host name must match.
const NamePattern = `[A-Za-z0-9][A-Za-z0-9._-]{0,62}`

// validName reports whether name matches NamePattern. (Checked by hand: a
// compiled regexp for it costs every command a millisecond of package
// initialisation.)
func validName(name string) bool {
	if len(name) == 0 || len(name) > 63 {
		return false
	}
	for i := range len(name) {
		c := name[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			return false
		}
	}
	return true
}

// ValidateName checks a host name (--host-name).
func ValidateName(name string) error {
	if !validName(name) {
		return fmt.Errorf("%w %q: expected a letter or digit, then up to 62 letters, digits, '.', '_' or '-'", ErrInvalidName, name)
	}
	return nil
}
