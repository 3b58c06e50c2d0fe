package store

import (
	"crypto/sha256"
	"encoding/hex"
)

// VersionOf is the version of a store file: a content hash of its bytes,
// short enough to print. Two hosts, or a host and the tool, that see the
// same bytes see the same version; any change of the file changes it.
func VersionOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:6])
}

// StoreVersion is the version (VersionOf) of the store file this
// configuration was loaded from or written as; "" for a configuration
// built in memory. (Config.Version is the store's format version.)
func (c *Config) StoreVersion() string { return c.storeVersion }
