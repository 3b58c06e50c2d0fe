package store

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"

	"github.com/BurntSushi/toml"
)

const fileHeader = "# poolctl configuration store. Edit with 'poolctl'; hand edits are validated on the next load.\n"

// Marshal renders the configuration as a store file: the header comment,
// then only the set values, in struct order (each table's values before its
// sub-tables), with empty option sections dropped. It writes the current
// FormatVersion and does not change c. The text is byte for byte what
// BurntSushi/toml's encoder writes (see encode.go); a string that is not
// valid UTF-8 is an error wrapping ErrInvalid, as no TOML file can hold it.
func Marshal(c *Config) ([]byte, error) {
	return marshalSized(c, 256+64*len(c.ApplicationPools)+256*len(c.Sites))
}

// marshalSized is Marshal into a buffer of hint bytes.
func marshalSized(c *Config, hint int) ([]byte, error) {
	out := *c
	out.Version = FormatVersion
	if out.ApplicationPools == nil {
		out.ApplicationPools = []AppPool{} // written "applicationPools = []", as always
	}
	data, err := encodeDocument(configPlan(), reflect.ValueOf(&out).Elem(), fileHeader, hint)
	if err != nil {
		return nil, fmt.Errorf("encode store: %w", err)
	}
	return data, nil
}

// Unmarshal decodes a store file. Unknown keys are an error naming them, so
// a typo in a hand edit is caught rather than ignored. It does not validate;
// see Config.Validate. A file exactly as Marshal writes it takes a fast
// path (decode.go); any other goes through BurntSushi/toml.
func Unmarshal(data []byte) (*Config, error) {
	if c, ok := decodeCanonical(data); ok {
		return c, nil
	}
	return unmarshalTOML(data)
}

// slowDecodes counts the files unmarshalTOML decoded, for the tests that
// hold the fast path to being taken.
var slowDecodes atomic.Int64

// unmarshalTOML decodes any store file with BurntSushi/toml.
func unmarshalTOML(data []byte) (*Config, error) {
	slowDecodes.Add(1)
	var c Config
	md, err := toml.Decode(string(data), &c)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return nil, fmt.Errorf("%w: line %d: %s", ErrInvalid, perr.Position.Line, perr.Message)
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, 0, len(und))
		for _, k := range und {
			keys = append(keys, k.String())
		}
		return nil, fmt.Errorf("%w: unknown key %s", ErrInvalid, strings.Join(keys, ", "))
	}
	// An empty file is not an empty configuration: taking it as one would
	// stop every pool and listener of a running host.
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%w: the file is empty (no 'version' key): was it truncated?", ErrInvalid)
	}
	if !md.IsDefined("version") {
		return nil, fmt.Errorf("%w: the file has no 'version' key: is it a poolctl store?", ErrInvalid)
	}
	return &c, nil
}

// Parse decodes and validates a store file.
func Parse(data []byte) (*Config, error) {
	c, err := Unmarshal(data)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}
