package store

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Endpoint is a parsed bindingInformation "ip:port:host".
type Endpoint struct {
	IP   string // "*" for any address, else the literal address (IPv6 without brackets)
	Port uint16
	Host string // "" matches any Host header; compared case-insensitively
}

// Addr returns the listen address for net.Listen: ":port" for any address.
func (e Endpoint) Addr() string {
	if e.IP == "*" {
		return ":" + strconv.Itoa(int(e.Port))
	}
	return netip.AddrPortFrom(netip.MustParseAddr(e.IP), e.Port).String()
}

// ParseBindingInformation parses "ip:port:host": ip is '*', an IPv4 address
// or an IPv6 address in brackets; port 1-65535; host a DNS name or empty.
func ParseBindingInformation(s string) (Endpoint, error) {
	bad := func(why string) (Endpoint, error) {
		return Endpoint{}, valueErrorf(ErrInvalid, "binding information %q: %s: expected ip:port:host, e.g. *:8080: or 127.0.0.1:80:www.example.com or [::1]:443:", s, why)
	}
	var ip, rest string
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 {
			return bad("unterminated IPv6 address")
		}
		ip, rest = s[1:end], s[end+1:]
		if !strings.HasPrefix(rest, ":") {
			return bad("missing port")
		}
		rest = rest[1:]
		a, err := netip.ParseAddr(ip)
		if err != nil || !a.Is6() {
			return bad("bad IPv6 address")
		}
		ip = a.String()
	} else {
		var ok bool
		ip, rest, ok = strings.Cut(s, ":")
		if !ok {
			return bad("missing port")
		}
		if ip != "*" {
			a, err := netip.ParseAddr(ip)
			if err != nil || !a.Is4() {
				return bad("bad IPv4 address (IPv6 goes in brackets)")
			}
			ip = a.String()
		}
	}
	portText, host, ok := strings.Cut(rest, ":")
	if !ok {
		return bad("missing the host part (it may be empty: *:8080:)")
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return bad("port must be 1 to 65535")
	}
	if !validHost(host) {
		return bad(fmt.Sprintf("bad host name %q", host))
	}
	return Endpoint{IP: ip, Port: uint16(port), Host: strings.ToLower(host)}, nil
}

func validHost(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if h == "" {
			return true
		}
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '*' || c == '_') {
				return false
			}
		}
	}
	return true
}

// String renders the canonical bindingInformation.
func (e Endpoint) String() string {
	ip := e.IP
	if strings.Contains(ip, ":") {
		ip = "[" + ip + "]"
	}
	return fmt.Sprintf("%s:%d:%s", ip, e.Port, e.Host)
}

// ParseBindings parses appcmd's /bindings shorthand "proto/info[,proto/info]".
func ParseBindings(s string) ([]Binding, error) {
	var out []Binding
	for _, part := range splitBindings(s) {
		proto, info, ok := strings.Cut(part, "/")
		if !ok {
			return nil, valueErrorf(ErrInvalid, "binding %q: expected protocol/ip:port:host, e.g. http/*:8080:", part)
		}
		out = append(out, Binding{Protocol: proto, BindingInformation: info})
	}
	v, err := bindingColl{}.check(out)
	if err != nil {
		return nil, err
	}
	return v.([]Binding), nil
}

// splitBindings splits on commas outside IPv6 brackets.
func splitBindings(s string) []string {
	var parts []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '[':
			depth++
		case ']':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

// FormatBindings renders bindings in the shorthand, as appcmd lists them.
func FormatBindings(bs []Binding) string {
	parts := make([]string, len(bs))
	for i, b := range bs {
		parts[i] = b.Protocol + "/" + b.BindingInformation
	}
	return strings.Join(parts, ",")
}

type bindingColl struct{}

func (bindingColl) keys() []string { return []string{"protocol", "bindingInformation"} }
func (bindingColl) attrs() []string {
	return []string{"protocol", "bindingInformation", "certificateFile", "keyFile"}
}
func (bindingColl) toAttrs(list any) []map[string]string {
	var out []map[string]string
	for _, b := range asSlice[Binding](list) {
		out = append(out, map[string]string{"protocol": b.Protocol, "bindingInformation": b.BindingInformation,
			"certificateFile": b.CertificateFile, "keyFile": b.KeyFile})
	}
	return out
}
func (c bindingColl) fromAttrs(elems []map[string]string) (any, error) {
	out := []Binding{}
	for _, e := range elems {
		out = append(out, Binding{Protocol: e["protocol"], BindingInformation: e["bindingInformation"],
			CertificateFile: e["certificateFile"], KeyFile: e["keyFile"]})
	}
	return c.check(out)
}

// check canonicalises protocol and endpoint text and checks each binding.
func (c bindingColl) check(list any) (any, error) {
	bs := asSlice[Binding](list)
	for i := range bs {
		b := &bs[i]
		b.Protocol = strings.ToLower(b.Protocol)
		if b.Protocol != "http" && b.Protocol != "https" {
			return nil, valueErrorf(ErrInvalid, "binding protocol %q: expected http or https", b.Protocol)
		}
		ep, err := ParseBindingInformation(b.BindingInformation)
		if err != nil {
			return nil, err
		}
		b.BindingInformation = ep.String()
		if b.Protocol == "http" && (b.CertificateFile != "" || b.KeyFile != "") {
			return nil, valueErrorf(ErrInvalid, "binding http/%s has a certificate or key file: only https bindings take them", b.BindingInformation)
		}
	}
	return bs, checkUnique(c, "bindings", c.toAttrs(bs))
}
