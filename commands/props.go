package commands

import (
	"strings"

	"github.com/poolctl/poolctl/commands/params"
	"github.com/poolctl/poolctl/store"
)

// target is an object whose schema properties a command edits.
type target struct {
	object string        // "apppool", for messages
	id     string        // its identifier, for messages
	schema *store.Schema // its properties
	root   any           // pointer to the struct that holds its own values
	// inherited returns the value a property has when root does not set
	// it; collection edits (/+, /-) start from it.
	inherited func(*store.Field) any
	// removed names properties that are refused on purpose, with the reason.
	removed map[string]string
}

// apply carries out every parameter on the target: /prop:value sets,
// /-prop resets to the inherited value, /+coll.[k='v'] adds an element,
// /-coll.[k='v'] removes one, /coll.[k='v'].attr:value changes one.
func (t *target) apply(ps []params.Param) error {
	for _, p := range ps {
		if err := t.applyOne(p); err != nil {
			return err
		}
	}
	return nil
}

func (t *target) applyOne(p params.Param) error {
	if why, ok := t.removed[strings.ToLower(p.Name)]; ok {
		return &store.ObjectError{Object: t.object, ID: t.id, Property: p.Name, Msg: "not supported", Hint: why, Err: store.ErrInvalid}
	}
	f, ok := t.schema.Lookup(p.Name)
	if !ok {
		if p.Name == "" {
			return usagef("%q: name the collection before the selector, e.g. /+environmentVariables.[name='FOO',value='bar']", p.Raw)
		}
		return t.schema.UnknownProperty(t.object, t.id, p.Name)
	}
	fail := func(err error) error { return store.PropertyError(t.object, t.id, f.Path, err) }
	switch {
	case p.Op == params.OpRemove && p.Selector == nil:
		f.Clear(t.root)
		return nil
	case p.Op == params.OpSet && p.Selector == nil:
		if !p.HasValue {
			return usagef("%q needs a value: /%s:VALUE (%s)", p.Raw, f.Path, f.Range())
		}
		v, err := t.parseWhole(f, p.Value)
		if err != nil {
			return fail(err)
		}
		t.set(f, v)
		return nil
	}
	if !f.Kind.IsCollection() {
		return usagef("%q: %s is not a collection; set it with /%s:VALUE", p.Raw, f.Path, f.Path)
	}
	cur, ok := f.Get(t.root)
	if !ok {
		cur = t.inherited(f)
	}
	attrs := make([]store.Attr, len(p.Selector))
	for i, kv := range p.Selector {
		attrs[i] = store.Attr{Key: kv.Key, Value: kv.Value}
	}
	var next any
	var err error
	switch p.Op {
	case params.OpAdd:
		next, err = f.AddElement(cur, attrs)
	case params.OpRemove:
		next, err = f.RemoveElement(cur, attrs)
	default:
		if !p.HasValue {
			return usagef("%q needs a value: /%s.[...].%s:VALUE", p.Raw, f.Path, p.Attr)
		}
		next, err = f.SetElementAttr(cur, attrs, p.Attr, p.Value)
	}
	if err != nil {
		return fail(err)
	}
	t.set(f, next)
	return nil
}

// set sets f to v; an empty list of environment variables where the
// inherited one is empty too is no setting at all, so the store keeps no
// "environmentVariables = []".
func (t *target) set(f *store.Field, v any) {
	if f.Kind == store.KindEnvVars && len(f.Elements(v)) == 0 &&
		(t.inherited == nil || len(f.Elements(t.inherited(f))) == 0) {
		f.Clear(t.root)
		return
	}
	f.Set(t.root, v)
}

// parseWhole parses the value of /prop:value. Collections accept a whole
// list where there is an unambiguous text form: bindings in appcmd's
// shorthand, a schedule as comma-separated times, and "" for an empty list.
func (t *target) parseWhole(f *store.Field, text string) (any, error) {
	switch f.Kind {
	case store.KindBindings:
		if text == "" {
			return []store.Binding{}, nil
		}
		return store.ParseBindings(text)
	case store.KindSchedule:
		var elems []store.Attr
		var list any = []store.TimeSpan{}
		for _, part := range strings.Split(text, ",") {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			elems = []store.Attr{{Key: "value", Value: part}}
			next, err := f.AddElement(list, elems)
			if err != nil {
				return nil, err
			}
			list = next
		}
		return list, nil
	case store.KindEnvVars:
		if text == "" {
			return []store.EnvironmentVariable{}, nil
		}
		return nil, valueErr("set variables one at a time with /+environmentVariables.[name='NAME',value='VALUE']; /environmentVariables: (empty) removes them all")
	}
	return f.Parse(text)
}

type plainError string

func (e plainError) Error() string { return string(e) }

func valueErr(msg string) error { return plainError(msg) }
