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
	data, err := encodeDocument(templatePlan(), reflect.ValueOf(&t).Elem(), "", 64+64*len(pools))
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
		e := &TemplateError{Msg: "unknown key " + strings.Join(keys, ", "), Reason: ReasonUnknownProperty}
		if sug := PoolSchema.Suggest(strings.TrimPrefix(keys[0], "applicationPools.")); len(und) == 1 && len(sug) > 0 {
			e.Hint, e.Reason = "did you mean "+strings.Join(sug, " or ")+"?", ReasonOther
		}
		return nil, e
	}
	if len(t.ApplicationPools) == 0 {
		return nil, &TemplateError{Msg: "no [[applicationPools]] table", Reason: ReasonNoTemplatePools}
	}
	for i := range t.ApplicationPools {
		p := &t.ApplicationPools[i]
		if err := validateSettings("apppool", p.Name, PoolSchema, &p.PoolSettings); err != nil {
			return nil, err
		}
	}
	return t.ApplicationPools, nil
}

// TemplateError is a pool template that does not load; it wraps
// ErrInvalid. Hint says how to fix it: the store's own ("did you mean"),
// else the tool's HintFunc for Reason (ReasonUnknownProperty,
// ReasonNoTemplatePools).
type TemplateError struct {
	Msg    string
	Reason Reason
	Hint   string
}

// Error renders `template: <msg>; <hint>` (`template: <msg>: <hint>` for
// a template without pools).
func (e *TemplateError) Error() string {
	s := "template: " + e.Msg
	switch h := hintOf(e, e.Hint); {
	case h == "":
	case e.Reason == ReasonNoTemplatePools:
		s += ": " + h
	default:
		s += "; " + h
	}
	return s
}

// Unwrap returns ErrInvalid.
func (e *TemplateError) Unwrap() error { return ErrInvalid }
