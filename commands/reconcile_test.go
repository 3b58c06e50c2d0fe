package commands

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/poolctl/poolctl/hostapi"
)

// fakeReconcileHost serves POST /v1/reconcile on a unix socket with h.
func fakeReconcileHost(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "api.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return sock
}

// TestReportReconcileBackground: a host that has not applied the change
// when --timeout ends applies it in the background; the tool says so, with
// no warning and without failing. (Before, it warned that the host "did
// not take it".)
func TestReportReconcileBackground(t *testing.T) {
	sock := fakeReconcileHost(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // the apply takes longer than the tool waits
	})
	var stderr bytes.Buffer
	e := &env{ctx: context.Background(), host: hostapi.NewClient(sock), timeout: 50 * time.Millisecond, stderr: &stderr}
	ctx, cancel := e.withTimeout()
	defer cancel()
	reportReconcile(ctx, e)
	got := stderr.String()
	if !strings.Contains(got, "saved; the host applies it in the background") || strings.Contains(got, "warning") {
		t.Errorf("stderr %q, want the background note and no warning", got)
	}
}

// TestReportReconcileApplied: a host that applied the change says nothing
// more than before (the testscripts pin the output).
func TestReportReconcileApplied(t *testing.T) {
	sock := fakeReconcileHost(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"applied":"0123456789ab"}`))
	})
	var stderr bytes.Buffer
	e := &env{ctx: context.Background(), host: hostapi.NewClient(sock), timeout: 30 * time.Second, stderr: &stderr}
	ctx, cancel := e.withTimeout()
	defer cancel()
	reportReconcile(ctx, e)
	if stderr.Len() != 0 {
		t.Errorf("stderr %q, want nothing", stderr.String())
	}
}
