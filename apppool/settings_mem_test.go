package apppool

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"unsafe"

	"github.com/poolctl/poolctl/forward"
	"github.com/poolctl/poolctl/store"
)

// TestSettingsShareEnv: the environment variables of the Windows-only
// attributes, the same in most pools, are one copy for the host, not one
// per pool.
func TestSettingsShareEnv(t *testing.T) {
	cfg := &store.Config{ApplicationPools: []store.AppPool{{Name: "A"}, {Name: "B"}}}
	a := NewSettings(cfg, &cfg.ApplicationPools[0])
	b := NewSettings(cfg, &cfg.ApplicationPools[1])
	if len(a.Env) == 0 || len(a.Env) != len(b.Env) {
		t.Fatalf("env of A %d, of B %d variables", len(a.Env), len(b.Env))
	}
	for i := range a.Env {
		if a.Env[i] != b.Env[i] {
			continue
		}
		if unsafe.StringData(a.Env[i]) != unsafe.StringData(b.Env[i]) {
			t.Errorf("%s: a copy per pool", a.Env[i])
		}
	}
}

// TestTargetOnFirstRequest: a worker's connection pool is made by its
// first request, not when it becomes ready; a worker closed before any
// request never makes one, and one made after the close is closed.
func TestTargetOnFirstRequest(t *testing.T) {
	tp := newWorkerPool(t, 1, true)
	startPool(t, tp.Pool)
	waitFor(t, "the worker", func() bool { k, _ := tp.serving(); return k == 1 })
	tp.mu.Lock()
	w := tp.active[0]
	tp.mu.Unlock()
	if w.target.made() {
		t.Fatal("a ready worker that served nothing has a connection pool")
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if err := w.Forward(rec, req); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("Forward: %v, status %d", err, rec.Code)
	}
	if !w.target.made() {
		t.Error("no connection pool after a request")
	}
	var closed workerTarget
	closed.set("tcp", "127.0.0.1:1", nil)
	closed.Close()
	if closed.made() {
		t.Error("Close made a connection pool")
	}
	if err := closed.get().Forward(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil)); !errors.Is(err, forward.ErrClosed) {
		t.Errorf("Forward after Close: %v, want forward.ErrClosed", err)
	}
}
