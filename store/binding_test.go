package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseBindingInformation(t *testing.T) {
	tests := []struct {
		in        string
		ip        string
		port      uint16
		host      string
		canonical string
		addr      string
	}{
		{"*:80:", "*", 80, "", "*:80:", ":80"},
		{"*:8080:", "*", 8080, "", "*:8080:", ":8080"},
		{"*:65535:", "*", 65535, "", "*:65535:", ":65535"},
		{"*:1:", "*", 1, "", "*:1:", ":1"},
		{"*:080:", "*", 80, "", "*:80:", ":80"},
		{"127.0.0.1:80:", "127.0.0.1", 80, "", "127.0.0.1:80:", "127.0.0.1:80"},
		{"192.168.0.1:80:www.contoso.com", "192.168.0.1", 80, "www.contoso.com", "192.168.0.1:80:www.contoso.com", "192.168.0.1:80"},
		{"*:80:WWW.Contoso.COM", "*", 80, "www.contoso.com", "*:80:www.contoso.com", ":80"},
		{"*:80:localhost", "*", 80, "localhost", "*:80:localhost", ":80"},
		{"*:80:*.contoso.com", "*", 80, "*.contoso.com", "*:80:*.contoso.com", ":80"},
		{"*:80:my-host_1", "*", 80, "my-host_1", "*:80:my-host_1", ":80"},
		{"[::1]:443:", "::1", 443, "", "[::1]:443:", "[::1]:443"},
		{"[::]:443:", "::", 443, "", "[::]:443:", "[::]:443"},
		{"[2001:DB8:0:0::1]:8443:api.example.org", "2001:db8::1", 8443, "api.example.org", "[2001:db8::1]:8443:api.example.org", "[2001:db8::1]:8443"},
		{"[::ffff:10.0.0.1]:80:", "::ffff:10.0.0.1", 80, "", "[::ffff:10.0.0.1]:80:", "[::ffff:10.0.0.1]:80"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ep, err := ParseBindingInformation(tt.in)
			if err != nil {
				t.Fatalf("ParseBindingInformation(%q): %v", tt.in, err)
			}
			if ep.IP != tt.ip || ep.Port != tt.port || ep.Host != tt.host {
				t.Errorf("got %+v, want ip %q port %d host %q", ep, tt.ip, tt.port, tt.host)
			}
			if s := ep.String(); s != tt.canonical {
				t.Errorf("String() = %q, want %q", s, tt.canonical)
			}
			if a := ep.Addr(); a != tt.addr {
				t.Errorf("Addr() = %q, want %q", a, tt.addr)
			}
			again, err := ParseBindingInformation(ep.String())
			if err != nil || again != ep {
				t.Errorf("reparse of %q = %+v, %v; want %+v", ep.String(), again, err, ep)
			}
		})
	}
}

func TestParseBindingInformationErrors(t *testing.T) {
	tests := []struct {
		in  string
		why string
	}{
		{"", "missing port"},
		{"*", "missing port"},
		{"*:80", "missing the host part"},
		{"*::", "port must be 1 to 65535"},
		{"*:0:", "port must be 1 to 65535"},
		{"*:65536:", "port must be 1 to 65535"},
		{"*:abc:", "port must be 1 to 65535"},
		{"*:-1:", "port must be 1 to 65535"},
		{"*:+80:", "port must be 1 to 65535"},
		{"*: 80:", "port must be 1 to 65535"},
		{":80:", "bad IPv4 address"},
		{"localhost:80:", "bad IPv4 address"},
		{"256.0.0.1:80:", "bad IPv4 address"},
		{"1.2.3:80:", "bad IPv4 address"},
		{"::1:80:", "bad IPv4 address"},
		{"[::1:80:", "unterminated IPv6 address"},
		{"[::1]80:", "missing port"},
		{"[::1]", "missing port"},
		{"[127.0.0.1]:80:", "bad IPv6 address"},
		{"[zz]:80:", "bad IPv6 address"},
		{"*:80:bad host", "bad host name"},
		{"*:80:a..b", "bad host name"},
		{"*:80:trailing.", "bad host name"},
		{"*:80:host:extra", "bad host name"},
		{"*:80:" + strings.Repeat("a", 64), "bad host name"},
		{"*:80:" + strings.Repeat("a.", 127) + "aa", "bad host name"},
		{"*:80:häst", "bad host name"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ep, err := ParseBindingInformation(tt.in)
			if err == nil {
				t.Fatalf("ParseBindingInformation(%q) = %+v, want an error", tt.in, ep)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.why) {
				t.Errorf("error %q does not say %q", err, tt.why)
			}
			if !strings.Contains(err.Error(), "expected ip:port:host") {
				t.Errorf("error %q does not say what is expected", err)
			}
		})
	}
}

func TestParseBindings(t *testing.T) {
	tests := []struct {
		in   string
		want []Binding
		text string // FormatBindings of the result
	}{
		{"http/*:80:", []Binding{{Protocol: "http", BindingInformation: "*:80:"}}, "http/*:80:"},
		{"HTTP/*:0080:Example.COM", []Binding{{Protocol: "http", BindingInformation: "*:80:example.com"}}, "http/*:80:example.com"},
		{"http/*:8080:,https/*:8443:host", []Binding{
			{Protocol: "http", BindingInformation: "*:8080:"},
			{Protocol: "https", BindingInformation: "*:8443:host"},
		}, "http/*:8080:,https/*:8443:host"},
		{"http/[::1]:80:,http/[2001:db8::1]:81:a,http/127.0.0.1:82:", []Binding{
			{Protocol: "http", BindingInformation: "[::1]:80:"},
			{Protocol: "http", BindingInformation: "[2001:db8::1]:81:a"},
			{Protocol: "http", BindingInformation: "127.0.0.1:82:"},
		}, "http/[::1]:80:,http/[2001:db8::1]:81:a,http/127.0.0.1:82:"},
		{"https/[::]:443:,http/*:80:www.example.com", []Binding{
			{Protocol: "https", BindingInformation: "[::]:443:"},
			{Protocol: "http", BindingInformation: "*:80:www.example.com"},
		}, "https/[::]:443:,http/*:80:www.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseBindings(tt.in)
			if err != nil {
				t.Fatalf("ParseBindings(%q): %v", tt.in, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ParseBindings(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if s := FormatBindings(got); s != tt.text {
				t.Errorf("FormatBindings = %q, want %q", s, tt.text)
			}
			again, err := ParseBindings(FormatBindings(got))
			if err != nil || !slices.Equal(again, got) {
				t.Errorf("ParseBindings(FormatBindings) = %v, %v", again, err)
			}
		})
	}
}

func TestParseBindingsErrors(t *testing.T) {
	tests := []struct{ in, why string }{
		{"", "expected protocol/ip:port:host"},
		{"*:80:", "expected protocol/ip:port:host"},
		{"http/*:80:,", "expected protocol/ip:port:host"},
		{"http/*:80:,*:81:", `binding "*:81:"`},
		{"ftp/*:21:", `protocol "ftp"`},
		{"/*:80:", `protocol ""`},
		{"http/*:0:", "port must be 1 to 65535"},
		{"http/[::1:80:", "unterminated IPv6"},
		{"http/*:80:,HTTP/*:080:", "twice"},
		{"http/::1:80:", "bad IPv4 address"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseBindings(tt.in)
			if err == nil {
				t.Fatalf("ParseBindings(%q) = %v, want an error", tt.in, got)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.why) {
				t.Errorf("error %q does not contain %q", err, tt.why)
			}
		})
	}
}

// TestBindingsValidate covers the https certificate rules and the shape
// checks of Config.Validate on a site's bindings.
func TestBindingsValidate(t *testing.T) {
	tests := []struct {
		name     string
		bindings []Binding
		errSub   string // "" means valid
	}{
		{"http", []Binding{{Protocol: "http", BindingInformation: "*:80:"}}, ""},
		{"https with both files", []Binding{{Protocol: "https", BindingInformation: "*:443:", CertificateFile: "/c.pem", KeyFile: "/k.pem"}}, ""},
		{"https without files", []Binding{{Protocol: "https", BindingInformation: "*:443:"}}, "has no certificateFile or keyFile"},
		{"https without key", []Binding{{Protocol: "https", BindingInformation: "*:443:", CertificateFile: "/c.pem"}}, "has no certificateFile or keyFile"},
		{"https without certificate", []Binding{{Protocol: "https", BindingInformation: "*:443:", KeyFile: "/k.pem"}}, "has no certificateFile or keyFile"},
		// A hand edit must not slip an https binding without files past
		// the certificate rule by its spelling.
		{"upper-case https without files", []Binding{{Protocol: "HTTPS", BindingInformation: "*:443:"}}, `must be written "https/*:443:"`},
		{"upper-case http", []Binding{{Protocol: "HTTP", BindingInformation: "*:80:"}}, `must be written "http/*:80:"`},
		{"non-canonical information", []Binding{{Protocol: "http", BindingInformation: "*:080:Host"}}, `must be written "http/*:80:host"`},
		{"http with a certificate", []Binding{{Protocol: "http", BindingInformation: "*:80:", CertificateFile: "/c.pem"}}, "only https bindings take them"},
		{"http with a key", []Binding{{Protocol: "http", BindingInformation: "*:80:", KeyFile: "/k.pem"}}, "only https bindings take them"},
		{"bad protocol", []Binding{{Protocol: "gopher", BindingInformation: "*:70:"}}, `protocol "gopher"`},
		{"bad information", []Binding{{Protocol: "http", BindingInformation: "*:99999:"}}, "port must be 1 to 65535"},
		{"duplicate", []Binding{{Protocol: "http", BindingInformation: "*:80:"}, {Protocol: "http", BindingInformation: "*:80:"}}, "twice"},
		{"no bindings", []Binding{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			c.Sites[0].Bindings = tt.bindings
			err := c.Validate()
			if tt.errSub == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.errSub) || !strings.Contains(err.Error(), `site "Default Web Site"`) {
				t.Errorf("error %q does not name the site and contain %q", err, tt.errSub)
			}
		})
	}
}
