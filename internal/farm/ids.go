package farm

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
)

// NewID returns 16 random hex characters: a command's ID, a host's
// Instance.
func NewID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

var idRE = regexp.MustCompile(`^[0-9a-f]{16}$`)

func validID(id string) bool { return idRE.MatchString(id) }
