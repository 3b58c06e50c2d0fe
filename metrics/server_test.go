package metrics

import "testing"

func TestNormalizeAddress(t *testing.T) {
	tests := []struct{ in, want string }{
		{":9419", "127.0.0.1:9419"},
		{"127.0.0.1:9000", "127.0.0.1:9000"},
		{"0.0.0.0:9419", "0.0.0.0:9419"},
		{"[::1]:9419", "[::1]:9419"},
		{"localhost", "localhost:9419"},
		{"10.0.0.5", "10.0.0.5:9419"},
		{"10.0.0.5:", "10.0.0.5:9419"},
	}
	for _, tt := range tests {
		got, err := NormalizeAddress(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeAddress(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"not an address!", "a:b:c"} {
		if got, err := NormalizeAddress(bad); err == nil {
			t.Errorf("NormalizeAddress(%q) = %q, want an error", bad, got)
		}
	}
}
