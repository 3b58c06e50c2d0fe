package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func hms(h, m, s int) TimeSpan {
	return TimeSpan(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
}

func scheduleField() *Field { return PoolSchema.Field("recycling.periodicRestart.schedule") }
func envField() *Field      { return PoolSchema.Field("environmentVariables") }
func bindingsField() *Field { return SiteSchema.Field("bindings") }

func TestScheduleAdd(t *testing.T) {
	tests := []struct {
		name    string
		list    any
		value   string
		want    []TimeSpan
		wantErr error
	}{
		{"to nil", nil, "03:00:00", []TimeSpan{hms(3, 0, 0)}, nil},
		{"to empty", []TimeSpan{}, "3:00:00", []TimeSpan{hms(3, 0, 0)}, nil},
		{"sorted in", []TimeSpan{hms(1, 0, 0), hms(5, 0, 0)}, "03:30:00", []TimeSpan{hms(1, 0, 0), hms(3, 30, 0), hms(5, 0, 0)}, nil},
		{"go duration", []TimeSpan{hms(5, 0, 0)}, "2h", []TimeSpan{hms(2, 0, 0), hms(5, 0, 0)}, nil},
		{"midnight", nil, "00:00:00", []TimeSpan{0}, nil},
		{"last second", nil, "23:59:59", []TimeSpan{hms(23, 59, 59)}, nil},
		{"duplicate", []TimeSpan{hms(3, 0, 0)}, "03:00:00", nil, ErrExists},
		{"duplicate other spelling", []TimeSpan{hms(3, 0, 0)}, "3:00:00", nil, ErrExists},
		{"duplicate as go duration", []TimeSpan{hms(3, 0, 0)}, "180m", nil, ErrExists},
		{"24h", nil, "24:00:00", nil, ErrInvalid},
		{"a day", nil, "1.00:00:00", nil, ErrInvalid},
		{"just under a day is fine but 24h+ is not", nil, "1.00:00:01", nil, ErrInvalid},
		{"not a time", nil, "noon", nil, ErrInvalid},
		{"empty value", nil, "", nil, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := scheduleField().AddElement(tt.list, []Attr{{"value", tt.value}})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("AddElement(%q) = %v, %v; want %v", tt.value, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("AddElement(%q): %v", tt.value, err)
			}
			if !slices.Equal(got.([]TimeSpan), tt.want) {
				t.Errorf("AddElement(%q) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

func TestScheduleRemoveAndSet(t *testing.T) {
	list := []TimeSpan{hms(1, 0, 0), hms(3, 0, 0), hms(5, 0, 0)}
	t.Run("remove other spelling", func(t *testing.T) {
		got, err := scheduleField().RemoveElement(list, []Attr{{"VALUE", "3:00:00"}})
		if err != nil {
			t.Fatal(err)
		}
		if want := []TimeSpan{hms(1, 0, 0), hms(5, 0, 0)}; !slices.Equal(got.([]TimeSpan), want) {
			t.Errorf("got %v, want %v", got, want)
		}
		if len(list) != 3 {
			t.Errorf("RemoveElement changed its input: %v", list)
		}
	})
	t.Run("remove missing", func(t *testing.T) {
		_, err := scheduleField().RemoveElement(list, []Attr{{"value", "04:00:00"}})
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
		if !strings.Contains(err.Error(), "[value='04:00:00']") {
			t.Errorf("error %q does not name the element", err)
		}
	})
	t.Run("remove without key", func(t *testing.T) {
		_, err := scheduleField().RemoveElement(list, nil)
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("err = %v, want ErrInvalid", err)
		}
	})
	t.Run("set value resorts", func(t *testing.T) {
		got, err := scheduleField().SetElementAttr(list, []Attr{{"value", "01:00:00"}}, "value", "06:00:00")
		if err != nil {
			t.Fatal(err)
		}
		if want := []TimeSpan{hms(3, 0, 0), hms(5, 0, 0), hms(6, 0, 0)}; !slices.Equal(got.([]TimeSpan), want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("set value to a duplicate", func(t *testing.T) {
		_, err := scheduleField().SetElementAttr(list, []Attr{{"value", "01:00:00"}}, "value", "5:00:00")
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("err = %v, want ErrInvalid", err)
		}
	})
	t.Run("set value to 24h", func(t *testing.T) {
		_, err := scheduleField().SetElementAttr(list, []Attr{{"value", "01:00:00"}}, "value", "24:00:00")
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("err = %v, want ErrInvalid", err)
		}
	})
	t.Run("unknown attribute", func(t *testing.T) {
		_, err := scheduleField().AddElement(nil, []Attr{{"value", "01:00:00"}, {"time", "x"}})
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `no attribute "time"`) {
			t.Fatalf("err = %v, want ErrInvalid naming the attribute", err)
		}
	})
	t.Run("check sorts", func(t *testing.T) {
		in := []TimeSpan{hms(5, 0, 0), hms(1, 0, 0)}
		if err := scheduleField().Validate(in); err != nil {
			t.Fatal(err)
		}
		if in[0] != hms(5, 0, 0) {
			t.Errorf("Validate reordered its input")
		}
	})
}

func TestEnvVarsAdd(t *testing.T) {
	base := []EnvironmentVariable{{"PATH", "/usr/bin"}, {"HOME", "/srv"}}
	tests := []struct {
		name    string
		list    any
		attrs   []Attr
		want    []EnvironmentVariable
		wantErr error
		errSub  string
	}{
		{"to nil", nil, []Attr{{"name", "A"}, {"value", "1"}}, []EnvironmentVariable{{"A", "1"}}, nil, ""},
		{"appends in order", base, []Attr{{"name", "LANG"}, {"value", "C"}}, append(slices.Clone(base), EnvironmentVariable{"LANG", "C"}), nil, ""},
		{"attribute names any case", nil, []Attr{{"Name", "A"}, {"VALUE", "1"}}, []EnvironmentVariable{{"A", "1"}}, nil, ""},
		{"value optional", nil, []Attr{{"name", "EMPTY"}}, []EnvironmentVariable{{"EMPTY", ""}}, nil, ""},
		{"value with = and ,", nil, []Attr{{"name", "OPTS"}, {"value", "a=b,c"}}, []EnvironmentVariable{{"OPTS", "a=b,c"}}, nil, ""},
		{"names are case-sensitive", base, []Attr{{"name", "path"}, {"value", "x"}}, append(slices.Clone(base), EnvironmentVariable{"path", "x"}), nil, ""},
		{"duplicate", base, []Attr{{"name", "PATH"}, {"value", "x"}}, nil, ErrExists, "[name='PATH']"},
		{"missing name", base, []Attr{{"value", "x"}}, nil, ErrInvalid, "needs [name='...']"},
		{"empty name", base, []Attr{{"name", ""}, {"value", "x"}}, nil, ErrInvalid, "needs [name='...']"},
		{"name with =", base, []Attr{{"name", "A=B"}, {"value", "x"}}, nil, ErrInvalid, "without '='"},
		{"name with NUL", base, []Attr{{"name", "A\x00"}}, nil, ErrInvalid, "without '='"},
		{"value with NUL", base, []Attr{{"name", "A"}, {"value", "\x00"}}, nil, ErrInvalid, "NUL"},
		{"unknown attribute", base, []Attr{{"name", "A"}, {"val", "x"}}, nil, ErrInvalid, `no attribute "val"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := envField().AddElement(tt.list, tt.attrs)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("AddElement = %v, %v; want %v", got, err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.errSub) {
					t.Errorf("error %q does not contain %q", err, tt.errSub)
				}
				return
			}
			if err != nil {
				t.Fatalf("AddElement: %v", err)
			}
			if !slices.Equal(got.([]EnvironmentVariable), tt.want) {
				t.Errorf("AddElement = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEnvVarsRemoveAndSet(t *testing.T) {
	base := []EnvironmentVariable{{"PATH", "/usr/bin"}, {"HOME", "/srv"}, {"LANG", "C"}}
	tests := []struct {
		name    string
		op      func() (any, error)
		want    []EnvironmentVariable
		wantErr error
	}{
		{"remove", func() (any, error) { return envField().RemoveElement(base, []Attr{{"name", "HOME"}}) },
			[]EnvironmentVariable{{"PATH", "/usr/bin"}, {"LANG", "C"}}, nil},
		{"remove ignores value", func() (any, error) {
			return envField().RemoveElement(base, []Attr{{"name", "HOME"}, {"value", "other"}})
		}, []EnvironmentVariable{{"PATH", "/usr/bin"}, {"LANG", "C"}}, nil},
		{"remove missing", func() (any, error) { return envField().RemoveElement(base, []Attr{{"name", "NOPE"}}) }, nil, ErrNotFound},
		{"remove other case", func() (any, error) { return envField().RemoveElement(base, []Attr{{"name", "home"}}) }, nil, ErrNotFound},
		{"remove from nil", func() (any, error) { return envField().RemoveElement(nil, []Attr{{"name", "A"}}) }, nil, ErrNotFound},
		{"remove without key", func() (any, error) { return envField().RemoveElement(base, []Attr{{"value", "C"}}) }, nil, ErrInvalid},
		{"set value", func() (any, error) {
			return envField().SetElementAttr(base, []Attr{{"name", "LANG"}}, "Value", "C.UTF-8")
		}, []EnvironmentVariable{{"PATH", "/usr/bin"}, {"HOME", "/srv"}, {"LANG", "C.UTF-8"}}, nil},
		{"rename", func() (any, error) {
			return envField().SetElementAttr(base, []Attr{{"name", "LANG"}}, "name", "LC_ALL")
		}, []EnvironmentVariable{{"PATH", "/usr/bin"}, {"HOME", "/srv"}, {"LC_ALL", "C"}}, nil},
		{"rename onto another", func() (any, error) {
			return envField().SetElementAttr(base, []Attr{{"name", "LANG"}}, "name", "HOME")
		}, nil, ErrInvalid},
		{"rename to bad name", func() (any, error) {
			return envField().SetElementAttr(base, []Attr{{"name", "LANG"}}, "name", "A=B")
		}, nil, ErrInvalid},
		{"set missing element", func() (any, error) {
			return envField().SetElementAttr(base, []Attr{{"name", "NOPE"}}, "value", "x")
		}, nil, ErrNotFound},
		{"set unknown attribute", func() (any, error) {
			return envField().SetElementAttr(base, []Attr{{"name", "LANG"}}, "colour", "x")
		}, nil, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.op()
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, %v; want %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.([]EnvironmentVariable), tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if base[2].Value != "C" || len(base) != 3 {
		t.Errorf("the operations changed their input: %v", base)
	}
}

func TestBindingsCollection(t *testing.T) {
	base := []Binding{{Protocol: "http", BindingInformation: "*:80:"}}
	tests := []struct {
		name    string
		op      func() (any, error)
		want    []Binding
		wantErr error
	}{
		{"add canonicalises", func() (any, error) {
			return bindingsField().AddElement(base, []Attr{{"protocol", "HTTP"}, {"bindingInformation", "127.0.0.1:080:WWW.Example.com"}})
		}, []Binding{base[0], {Protocol: "http", BindingInformation: "127.0.0.1:80:www.example.com"}}, nil},
		{"add https with files", func() (any, error) {
			return bindingsField().AddElement(base, []Attr{{"protocol", "https"}, {"bindingInformation", "*:443:"}, {"certificateFile", "/c.pem"}, {"keyFile", "/k.pem"}})
		}, []Binding{base[0], {Protocol: "https", BindingInformation: "*:443:", CertificateFile: "/c.pem", KeyFile: "/k.pem"}}, nil},
		{"add duplicate", func() (any, error) {
			return bindingsField().AddElement(base, []Attr{{"protocol", "http"}, {"bindingInformation", "*:80:"}})
		}, nil, ErrExists},
		{"add duplicate other spelling", func() (any, error) {
			return bindingsField().AddElement(base, []Attr{{"protocol", "HTTP"}, {"bindingInformation", "*:0080:"}})
		}, nil, ErrExists},
		{"add without bindingInformation", func() (any, error) {
			return bindingsField().AddElement(base, []Attr{{"protocol", "http"}})
		}, nil, ErrInvalid},
		{"add with empty protocol", func() (any, error) {
			return bindingsField().AddElement(base, []Attr{{"protocol", ""}, {"bindingInformation", "*:81:"}})
		}, nil, ErrInvalid},
		{"add ftp", func() (any, error) {
			return bindingsField().AddElement(base, []Attr{{"protocol", "ftp"}, {"bindingInformation", "*:21:"}})
		}, nil, ErrInvalid},
		{"add http with a certificate", func() (any, error) {
			return bindingsField().AddElement(base, []Attr{{"protocol", "http"}, {"bindingInformation", "*:81:"}, {"certificateFile", "/c.pem"}})
		}, nil, ErrInvalid},
		{"remove", func() (any, error) {
			return bindingsField().RemoveElement(base, []Attr{{"protocol", "http"}, {"bindingInformation", "*:80:"}})
		}, []Binding{}, nil},
		{"remove other spelling", func() (any, error) {
			return bindingsField().RemoveElement(base, []Attr{{"protocol", "Http"}, {"bindingInformation", "*:080:"}})
		}, []Binding{}, nil},
		{"remove needs both keys", func() (any, error) {
			return bindingsField().RemoveElement(base, []Attr{{"bindingInformation", "*:80:"}})
		}, nil, ErrInvalid},
		{"remove missing", func() (any, error) {
			return bindingsField().RemoveElement(base, []Attr{{"protocol", "https"}, {"bindingInformation", "*:80:"}})
		}, nil, ErrNotFound},
		{"set attribute", func() (any, error) {
			return bindingsField().SetElementAttr(base, []Attr{{"protocol", "http"}, {"bindingInformation", "*:80:"}}, "bindinginformation", "*:8081:")
		}, []Binding{{Protocol: "http", BindingInformation: "*:8081:"}}, nil},
		{"set bad port", func() (any, error) {
			return bindingsField().SetElementAttr(base, []Attr{{"protocol", "http"}, {"bindingInformation", "*:80:"}}, "bindingInformation", "*:0:")
		}, nil, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.op()
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, %v; want %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.([]Binding), tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestElements(t *testing.T) {
	got := envField().Elements([]EnvironmentVariable{{"A", "1"}})
	if len(got) != 1 || got[0]["name"] != "A" || got[0]["value"] != "1" {
		t.Errorf("Elements = %v", got)
	}
	if got := scheduleField().Elements(nil); len(got) != 0 {
		t.Errorf("Elements(nil) = %v", got)
	}
}
