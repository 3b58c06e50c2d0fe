package farm

import (
	"crypto/rand"
	"encoding/hex"
)

// NewID returns 16 random hex characters: a command's ID, a host's
// Instance.
func NewID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// validID reports whether id is what NewID makes: 16 lower-case hex digits.
func validID(id string) bool {
	if len(id) != 16 {
		return false
	}
	for i := range len(id) {
		if c := id[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
