package hostapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestHandlerPeers: through Handler, a request with no peer is nobody's
// (a write is refused, never served as root's), and a farm operator's
// (WithFarmOperator) write is admitted with who sent it.
func TestHandlerPeers(t *testing.T) {
	s := NewServer(ServerOptions{HostUID: 4242, OperatorGroup: -1})
	var from string
	s.Handle("POST /v1/apppools/{name}/recycle", Write, func(ctx context.Context, r *http.Request) (any, error) {
		from, _ = FarmOperatorFrom(ctx)
		return map[string]string{"ok": "yes"}, nil
	})
	h := s.Handler()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/v1/apppools/A/recycle", nil))
	if w.Code != http.StatusForbidden {
		t.Errorf("no peer: status %d, want 403", w.Code)
	}
	w = httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/v1/apppools/A/recycle", nil)
	h.ServeHTTP(w, r.WithContext(WithFarmOperator(r.Context(), "ann@tools1")))
	if w.Code != http.StatusOK || from != "ann@tools1" || w.Header().Get(VersionHeader) != Version {
		t.Errorf("farm operator: status %d, from %q, version %q", w.Code, from, w.Header().Get(VersionHeader))
	}
}
