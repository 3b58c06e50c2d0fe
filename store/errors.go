package store

import (
	"errors"
	"fmt"
	"sync/atomic"
)

// Sentinel errors. Callers test for them with errors.Is; the wrapping error
// carries the human message (which object, which property, how to fix it).
var (
	// ErrInvalid marks a value, name or configuration that fails validation.
	ErrInvalid = errors.New("invalid configuration")
	// ErrNotFound marks a reference to an object that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists marks an attempt to add an object whose key is taken.
	ErrExists = errors.New("already exists")
	// ErrInUse marks an attempt to delete an object others still reference.
	ErrInUse = errors.New("in use")
	// ErrLockTimeout marks a mutation that could not take the store lock in time.
	ErrLockTimeout = errors.New("store is locked by another poolctl")
)

// ObjectError is an error about one object of the store, and optionally one
// of its properties. Its message names both, says what is wrong and, where
// there is one, how to fix it. The store gives the facts (Reason, Value);
// hints that name a poolctl command are the tool's to word (HintFunc),
// used when Hint is empty.
type ObjectError struct {
	Object   string // "apppool", "site", "app", "vdir", "backup", "config"
	ID       string // the object's identifier; empty for a section
	Property string // dotted property path, if the error is about one
	Msg      string // what is wrong
	Hint     string // how to fix it, if known
	Err      error  // the sentinel (ErrInvalid, ErrNotFound ...)
	Reason   Reason // which kind of fact, for the caller's hint
	Value    string // the value at fault, where Reason needs it
}

// Reason is the kind of fact an error reports, so that the caller can
// word a hint for it.
type Reason int

// Reasons of ObjectError.
const (
	// ReasonOther has no hint of the caller's.
	ReasonOther Reason = iota
	// ReasonNotFound: the object Object ID does not exist.
	ReasonNotFound
	// ReasonUnknownProperty: Object has no property Property, and no
	// name is close to it.
	ReasonUnknownProperty
	// ReasonMissingPool: an application names a pool (Value) that does
	// not exist.
	ReasonMissingPool
	// ReasonNoTemplatePools: a pool template holds no pool table.
	ReasonNoTemplatePools
	// ReasonUnknownPool: a change gives an application a pool (Value)
	// that does not exist.
	ReasonUnknownPool
)

// Error renders `apppool "Marketing": processModel.idleTimeout: <msg>; <hint>`.
func (e *ObjectError) Error() string {
	s := e.Object
	if e.ID != "" || e.Object == "apppool" || e.Object == "site" {
		s += fmt.Sprintf(" %q", e.ID)
	}
	if e.Property != "" {
		s += ": " + e.Property
	}
	s += ": " + e.Msg
	if h := hintOf(e, e.Hint); h != "" {
		s += "; " + h
	}
	return s
}

// Unwrap returns the sentinel.
func (e *ObjectError) Unwrap() error { return e.Err }

func invalidf(object, id, property, format string, args ...any) *ObjectError {
	return &ObjectError{Object: object, ID: id, Property: property, Msg: fmt.Sprintf(format, args...), Err: ErrInvalid}
}

// NotFound returns the error for a missing object (ReasonNotFound).
func NotFound(object, id string) error {
	return &ObjectError{Object: object, ID: id, Msg: "not found", Err: ErrNotFound, Reason: ReasonNotFound}
}

// Exists returns the error for a duplicate key. existing is the name as
// stored, which may differ in case from id.
func Exists(object, id, existing string) error {
	msg := "already exists"
	if existing != id {
		msg = fmt.Sprintf("already exists as %q (names are compared case-insensitively)", existing)
	}
	return &ObjectError{Object: object, ID: id, Msg: msg, Err: ErrExists}
}

// valueError is a problem with one value: its message is for people, its
// sentinel for errors.Is. ObjectError adds the object and property.
type valueError struct {
	msg string
	err error
}

func (e *valueError) Error() string { return e.msg }
func (e *valueError) Unwrap() error { return e.err }

// valueErrorf returns a value error with the sentinel.
func valueErrorf(sentinel error, format string, args ...any) error {
	return &valueError{msg: fmt.Sprintf(format, args...), err: sentinel}
}

// PropertyError attaches the object and property to a value error. The
// sentinel of err is kept, ErrInvalid if it has none of the store's.
func PropertyError(object, id, property string, err error) error {
	sentinel := ErrInvalid
	for _, s := range []error{ErrNotFound, ErrExists, ErrInUse} {
		if errors.Is(err, s) {
			sentinel = s
		}
	}
	return &ObjectError{Object: object, ID: id, Property: property, Msg: err.Error(), Err: sentinel}
}

// InvalidStoreError is a store file that does not load: not TOML, or not a
// valid configuration. The tool's HintFunc says how to fix it.
type InvalidStoreError struct {
	Path string
	Err  error // wraps ErrInvalid
}

// Error renders `store PATH: <why> (<hint>)`.
func (e *InvalidStoreError) Error() string {
	s := fmt.Sprintf("store %s: %v", e.Path, e.Err)
	if h := hintOf(e, ""); h != "" {
		s += " (" + h + ")"
	}
	return s
}

// Unwrap returns why the file does not load.
func (e *InvalidStoreError) Unwrap() error { return e.Err }

// HintFunc words the hint of one of the store's errors (*ObjectError,
// *PoolInUseError, *TemplateError, *InvalidStoreError) from its facts, or
// returns "". The store does not know the tool's command line: the tool
// registers one with SetHintFunc, and an error without a hint of its own
// renders the registered one.
type HintFunc func(err error) string

var hintFunc atomic.Pointer[HintFunc]

// SetHintFunc registers f (nil: none) for every error rendered from now on.
func SetHintFunc(f HintFunc) {
	if f == nil {
		hintFunc.Store(nil)
		return
	}
	hintFunc.Store(&f)
}

// hintOf is own when set, else the registered hint for err.
func hintOf(err error, own string) string {
	if own != "" {
		return own
	}
	if f := hintFunc.Load(); f != nil {
		return (*f)(err)
	}
	return ""
}
