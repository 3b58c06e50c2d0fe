package store

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is the type of a property as the user sees it.
type Kind int

// The property kinds.
const (
	KindString   Kind = iota // free text
	KindBool                 // true or false
	KindUint                 // unsigned integer with a range
	KindEnum                 // one name out of Values (or its number)
	KindFlags                // a comma-separated set of Values
	KindTimeSpan             // [d.]hh:mm:ss or a Go duration, range in seconds
	KindCommand              // a program and its arguments, split like a shell
	KindSchedule             // collection of times of day, key "value"
	KindEnvVars              // collection of name/value pairs, key "name"
	KindBindings             // collection of site bindings, key protocol+bindingInformation
)

var kindNames = [...]string{"string", "bool", "uint", "enum", "flags", "timeSpan", "command", "collection", "collection", "collection"}

// String names the kind as help shows it.
func (k Kind) String() string { return kindNames[k] }

// IsCollection reports whether values of the kind are edited with /+ and /-.
func (k Kind) IsCollection() bool { return k >= KindSchedule }

// EnumValue is one allowed value of an enum or flags property, with the
// number IIS gives it (accepted on input for enums).
type EnumValue struct {
	Name string
	Num  uint64
}

// Field is one row of a schema: a property, its type, default, range, help,
// and how a change to it reaches running workers.
type Field struct {
	Path    string      // dotted, as on the command line: "processModel.idleTimeout"
	Kind    Kind        // the type
	Default string      // canonical text of the schema default
	Min     uint64      // range for KindUint, and in seconds for KindTimeSpan
	Max     uint64      // inclusive; 0 with Min 0 means no range check
	Values  []EnumValue // for KindEnum and KindFlags, in IIS order
	Help    string      // one line for help output
	Recycle bool        // a change needs the pool's workers to be recycled
	Windows bool        // meaningful only on Windows: stored, validated, shown, and passed to workers as environment
	index   []int       // reflect field path within the schema's root struct, set by Schema.resolve
	owner   *Schema     // the schema whose row this is (nil for a row built elsewhere)
	pos     int         // the row's position in owner.Fields
}

// path returns the reflect field path of the row, resolving its schema on
// first use. A copy of a row resolves through its schema's own row.
func (f *Field) path() []int {
	if f.owner == nil {
		return f.index
	}
	f.owner.resolve()
	return f.owner.Fields[f.pos].index
}

// HasRange reports whether Min/Max apply.
func (f *Field) HasRange() bool { return f.Min != 0 || f.Max != 0 }

// Range describes the accepted values for help and errors.
func (f *Field) Range() string {
	switch f.Kind {
	case KindBool:
		return "true|false"
	case KindEnum:
		return strings.Join(f.valueNames(), "|")
	case KindFlags:
		return "comma-separated: " + strings.Join(f.valueNames(), ",")
	case KindUint:
		if f.HasRange() {
			return fmt.Sprintf("%d-%d", f.Min, f.Max)
		}
	case KindTimeSpan:
		if f.HasRange() {
			return fmt.Sprintf("%s-%s", TimeSpan(f.Min*1e9), TimeSpan(f.Max*1e9))
		}
	case KindSchedule:
		return "[value='hh:mm:ss']"
	case KindEnvVars:
		return "[name='N',value='V']"
	case KindBindings:
		return "[protocol='http',bindingInformation='ip:port:host']"
	case KindCommand:
		return "program and arguments"
	}
	return ""
}

func (f *Field) valueNames() []string {
	names := make([]string, len(f.Values))
	for i, v := range f.Values {
		names[i] = v.Name
		if v.Name == "" {
			names[i] = `""`
		}
	}
	return names
}

// EnvName is the environment variable that carries a Windows-only property
// to workers: POOLCTL_IIS_ and the upper-cased path with dots as underscores.
func (f *Field) EnvName() string {
	return "POOLCTL_IIS_" + strings.ToUpper(strings.ReplaceAll(f.Path, ".", "_"))
}

// Parse converts command-line text to the property's typed value, checking
// type and range. The error says what was expected.
func (f *Field) Parse(text string) (any, error) {
	switch f.Kind {
	case KindString:
		if strings.ContainsRune(text, 0) {
			return nil, fmt.Errorf("the value contains a NUL character")
		}
		return text, nil
	case KindBool:
		b, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(text)))
		if err != nil {
			return nil, fmt.Errorf("%q is not a boolean: expected true or false", text)
		}
		return b, nil
	case KindUint:
		n, err := strconv.ParseUint(strings.TrimSpace(text), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number: expected %s", text, f.rangeOr("a number ≥ 0"))
		}
		return n, f.checkUint(n)
	case KindEnum:
		return f.parseEnum(text)
	case KindFlags:
		return f.parseFlags(text)
	case KindTimeSpan:
		t, err := ParseTimeSpan(text)
		if err != nil {
			return nil, err
		}
		return t, f.checkSpan(t)
	case KindCommand:
		return SplitCommand(text)
	}
	return nil, fmt.Errorf("%s is a collection: edit it with /+%s.%s and /-%s.[key='value']", f.Path, f.Path, f.Range(), f.Path)
}

func (f *Field) rangeOr(fallback string) string {
	if f.HasRange() {
		return f.Range()
	}
	return fallback
}

func (f *Field) checkUint(n uint64) error {
	if f.HasRange() && (n < f.Min || n > f.Max) {
		return fmt.Errorf("%d is out of range: expected %d to %d", n, f.Min, f.Max)
	}
	return nil
}

func (f *Field) checkSpan(t TimeSpan) error {
	if !f.HasRange() {
		return nil
	}
	if t.Seconds() < f.Min || t.Seconds() > f.Max || (t.Seconds() == f.Max && t.Duration()%1e9 != 0) {
		return fmt.Errorf("%s is out of range: expected %s to %s", t, TimeSpan(f.Min*1e9), TimeSpan(f.Max*1e9))
	}
	return nil
}

func (f *Field) parseEnum(text string) (string, error) {
	t := strings.TrimSpace(text)
	for _, v := range f.Values {
		if strings.EqualFold(v.Name, t) {
			return v.Name, nil
		}
	}
	if n, err := strconv.ParseUint(t, 10, 64); err == nil {
		for _, v := range f.Values {
			if v.Num == n && v.Name != "" {
				return v.Name, nil
			}
		}
	}
	return "", fmt.Errorf("%q is not allowed: expected one of %s", text, strings.Join(f.valueNames(), ", "))
}

func (f *Field) parseFlags(text string) (string, error) {
	var set uint64
	for _, part := range strings.Split(text, ",") {
		part = strings.TrimSpace(part)
		if part == "" || strings.EqualFold(part, "None") {
			continue
		}
		found := false
		for i, v := range f.Values {
			if strings.EqualFold(v.Name, part) {
				set |= 1 << i
				found = true
			}
		}
		if !found {
			return "", fmt.Errorf("%q is not a flag of %s: expected a comma-separated list of %s (or None)", part, f.Path, strings.Join(f.valueNames(), ", "))
		}
	}
	var names []string
	for i, v := range f.Values {
		if set&(1<<i) != 0 {
			names = append(names, v.Name)
		}
	}
	return strings.Join(names, ","), nil
}

// Format renders a typed value as canonical text: the form the store writes,
// /text prints and filters compare.
func (f *Field) Format(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case uint64:
		return strconv.FormatUint(x, 10)
	case TimeSpan:
		return x.String()
	case []string:
		return JoinCommand(x)
	case []TimeSpan:
		parts := make([]string, len(x))
		for i, t := range x {
			parts[i] = t.String()
		}
		return strings.Join(parts, ",")
	case []EnvironmentVariable:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = e.Name + "=" + e.Value
		}
		return strings.Join(parts, ",")
	case []Binding:
		return FormatBindings(x)
	}
	return fmt.Sprint(v)
}

// Validate checks a typed value, such as one decoded from the file, against
// the field's type and range.
func (f *Field) Validate(v any) error {
	switch f.Kind {
	case KindString:
		_, err := f.Parse(v.(string))
		return err
	case KindUint:
		return f.checkUint(v.(uint64))
	case KindTimeSpan:
		return f.checkSpan(v.(TimeSpan))
	case KindEnum:
		s := v.(string)
		c, err := f.parseEnum(s)
		if err == nil && c != s {
			return fmt.Errorf("%q must be written %q", s, c)
		}
		return err
	case KindFlags:
		s := v.(string)
		c, err := f.parseFlags(s)
		if err == nil && c != s {
			return fmt.Errorf("%q must be written %q", s, c)
		}
		return err
	case KindCommand:
		if cmd := v.([]string); len(cmd) > 0 && cmd[0] == "" {
			return fmt.Errorf("the program name is empty")
		}
	case KindBindings:
		// Canonical form only, as for enums: code compares protocols and
		// endpoints as text ("https" needs certificate and key files).
		c, err := bindingColl{}.check(v)
		if err == nil && FormatBindings(c.([]Binding)) != FormatBindings(v.([]Binding)) {
			return fmt.Errorf("%q must be written %q", FormatBindings(v.([]Binding)), FormatBindings(c.([]Binding)))
		}
		return err
	case KindSchedule, KindEnvVars:
		_, err := collectionOf(f.Kind).check(v)
		return err
	}
	return nil
}

// DefaultValue returns the schema default as a typed value.
func (f *Field) DefaultValue() any {
	switch f.Kind {
	case KindSchedule:
		return []TimeSpan{}
	case KindEnvVars:
		return []EnvironmentVariable{}
	case KindBindings:
		return []Binding{}
	case KindCommand:
		if f.Default == "" {
			return []string{}
		}
	}
	v, err := f.Parse(f.Default)
	if err != nil {
		panic(fmt.Sprintf("store: schema default of %s: %v", f.Path, err))
	}
	return v
}

// Equal reports whether two typed values are the same setting.
func (f *Field) Equal(a, b any) bool { return f.Format(a) == f.Format(b) && sameNil(a, b) }

func sameNil(a, b any) bool { return (a == nil) == (b == nil) }
