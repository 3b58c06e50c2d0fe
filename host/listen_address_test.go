package host

import (
	"errors"
	"strings"
	"testing"

	"github.com/poolctl/poolctl/store"
)

// TestCheckListenAddress: an address of this machine (any of the loopback
// network) is taken in canonical form; anything else is refused with a
// message naming it.
func TestCheckListenAddress(t *testing.T) {
	for _, ok := range []string{"127.0.0.1", "127.0.0.3", "::1", "[::1]"} {
		if _, err := CheckListenAddress(ok); err != nil {
			if ok == "::1" || ok == "[::1]" {
				t.Logf("%s: %v (no IPv6 here)", ok, err)
				continue
			}
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "localhost", "0.0.0.0", "::", "192.0.2.77", "224.0.0.1", "1.2.3", "127.0.0.1:80"} {
		_, err := CheckListenAddress(bad)
		if !errors.Is(err, ErrListenAddress) {
			t.Errorf("%q: err = %v, want ErrListenAddress", bad, err)
		}
	}
	if _, err := CheckListenAddress("192.0.2.77"); err == nil || !strings.Contains(err.Error(), "no interface of this machine") {
		t.Errorf("192.0.2.77: %v", err)
	}
}

// TestResolveListen: '*' bindings take the address, others stay; the
// configuration given is not changed.
func TestResolveListen(t *testing.T) {
	cfg := &store.Config{Sites: []store.Site{{Name: "A", Bindings: []store.Binding{
		{Protocol: "http", BindingInformation: "*:8080:"},
		{Protocol: "https", BindingInformation: "*:8443:www.example.com"},
		{Protocol: "http", BindingInformation: "10.0.0.1:80:"},
	}}}}
	if got := resolveListen(cfg, ""); got != cfg {
		t.Error("no address: the configuration is not the same")
	}
	got := resolveListen(cfg, "127.0.0.2")
	want := []string{"127.0.0.2:8080:", "127.0.0.2:8443:www.example.com", "10.0.0.1:80:"}
	for i, b := range got.Sites[0].Bindings {
		if b.BindingInformation != want[i] {
			t.Errorf("binding %d = %q, want %q", i, b.BindingInformation, want[i])
		}
	}
	if cfg.Sites[0].Bindings[0].BindingInformation != "*:8080:" {
		t.Error("the original configuration changed")
	}
	if got := resolveListen(cfg, "fd00::5"); got.Sites[0].Bindings[0].BindingInformation != "[fd00::5]:8080:" {
		t.Errorf("IPv6: %q", got.Sites[0].Bindings[0].BindingInformation)
	}
}
