package store

import (
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
// [[applicationPools]] table per pool, holding only what each sets, with
// empty option sections dropped; no header comment and no version. The
// pools are not changed. A string that is not valid UTF-8 is an error
// wrapping ErrInvalid.
func MarshalPools(pools []AppPool) ([]byte, error) {
	t := poolTemplate{ApplicationPools: pools}
	if t.ApplicationPools == nil {
		t.ApplicationPools = []AppPool{} // written "applicationPools = []", as always
	}
	data, err := encodeDocument(templatePlan, reflect.ValueOf(&t).Elem(), "", 64+64*len(pools))
	if err != nil {
		return nil, fmt.Errorf("encode template: %w", err)
	}
	return data, nil
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
		hint := "; see 'poolctl set apppool /?' for the properties"
		if sug := PoolSchema.Suggest(strings.TrimPrefix(keys[0], "applicationPools.")); len(und) == 1 && len(sug) > 0 {
			hint = "; did you mean " + strings.Join(sug, " or ") + "?"
		}
		return nil, valueErrorf(ErrInvalid, "template: unknown key %s%s", strings.Join(keys, ", "), hint)
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
