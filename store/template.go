package store

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"

	"github.com/BurntSushi/toml"
)

// poolTemplate is the file form of pool templates: the pools' own entries,
// exactly as the store holds them.
type poolTemplate struct {
	ApplicationPools []AppPool `toml:"applicationPools"`
}

// MarshalPools renders pools as a template: TOML with one
// [[applicationPools]] table per pool, holding only what each sets.
func MarshalPools(pools []AppPool) ([]byte, error) {
	t := poolTemplate{ApplicationPools: make([]AppPool, len(pools))}
	for i, p := range pools {
		t.ApplicationPools[i] = p
		pruneEmpty(reflect.ValueOf(&t.ApplicationPools[i].PoolSettings).Elem())
	}
	var buf bytes.Buffer
	enc := toml.NewEncoder(&buf)
	enc.Indent = ""
	if err := enc.Encode(&t); err != nil {
		return nil, fmt.Errorf("encode template: %w", err)
	}
	return buf.Bytes(), nil
}

// UnmarshalPools reads a template. Unknown keys and invalid values are
// errors that name the pool and property; the pools are not checked against
// a store (names may clash; the caller decides).
func UnmarshalPools(data []byte) ([]AppPool, error) {
	var t poolTemplate
	md, err := toml.Decode(string(data), &t)
	if err != nil {
		return nil, valueErrorf(ErrInvalid, "template: %v", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, valueErrorf(ErrInvalid, "template: unknown key %s", strings.Join(keys, ", "))
	}
	if len(t.ApplicationPools) == 0 {
		return nil, valueErrorf(ErrInvalid, "template: no [[applicationPools]] table: expected the output of 'poolctl list apppool NAME /config'")
	}
	for i := range t.ApplicationPools {
		p := &t.ApplicationPools[i]
		if err := validateSettings("apppool", p.Name, PoolSchema, &p.PoolSettings); err != nil {
			return nil, err
		}
	}
	return t.ApplicationPools, nil
}
