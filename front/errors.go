package front

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
)

// Values of the host section's errorMode (IIS's httpErrors errorMode).
const (
	// ErrorModeDetailedLocalOnly shows the detail of an error page to
	// loopback clients only (the default).
	ErrorModeDetailedLocalOnly = "DetailedLocalOnly"
	// ErrorModeDetailed shows the detail to every client.
	ErrorModeDetailed = "Detailed"
	// ErrorModeCustom never shows the detail.
	ErrorModeCustom = "Custom"
)

// RefHeader carries the reference of an error page whose detail was
// withheld; the host log has the detail under the same ref.
const RefHeader = "X-Poolctl-Ref"

// showDetail reports whether the client at remote (a RemoteAddr) may see
// the detail of an error page under mode.
func showDetail(mode, remote string) bool {
	switch mode {
	case ErrorModeDetailed:
		return true
	case ErrorModeCustom:
		return false
	}
	return isLoopback(remote)
}

// isLoopback reports whether remote ("ip:port") is a loopback address:
// 127.0.0.0/8 or ::1 (also IPv4-mapped).
func isLoopback(remote string) bool {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return false
	}
	return ap.Addr().Unmap().IsLoopback()
}

// shortReasons are what a client that may not see the detail is told, by
// the reason code of the error page.
var shortReasons = map[string]string{
	"NotFound":       "no site or application matches this request",
	"QueueFull":      "the application pool's queue is full",
	"ConnLimit":      "the site has too many connections",
	"WorkerFailed":   "the application failed to answer",
	"BadRequestBody": "the request body could not be read",
	"RequestTimeout": "the request body arrived too slowly",
	"LowAppInvalid":  "the application cannot be served",
}

// shortMessage is the detail-free text of an error page.
func shortMessage(status int, reason string) string {
	if m, ok := shortReasons[reason]; ok {
		return m
	}
	if status == http.StatusServiceUnavailable {
		return "the application pool is not available"
	}
	return strings.ToLower(http.StatusText(status))
}

// newRefPrefix returns the random prefix of this front's error references,
// so that references from different runs of the host do not collide.
func newRefPrefix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// unavailable writes a short plain-text error with the reason in a header,
// as HTTP.sys names it in httperr.log. The detail msg goes to the client
// when the host's errorMode allows it for this client; otherwise the client
// gets a short reason and a reference, and the host log gets the detail
// under that reference.
func unavailable(w http.ResponseWriter, status int, reason, msg string) {
	x, _ := w.(*exchange)
	if x != nil {
		x.reason = reason // for the access log
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Poolctl-Reason", reason)
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	if x != nil && showDetail(x.table.host.errorMode, x.r.RemoteAddr) {
		w.WriteHeader(status)
		fmt.Fprintf(w, "%d %s: %s\n", status, http.StatusText(status), msg)
		return
	}
	short := shortMessage(status, reason)
	if x == nil {
		w.WriteHeader(status)
		fmt.Fprintf(w, "%d %s: %s\n", status, http.StatusText(status), short)
		return
	}
	ref := fmt.Sprintf("%s-%d", x.f.refPrefix, x.id)
	level := slog.LevelWarn
	if status < 500 {
		level = slog.LevelInfo
	}
	x.f.logger.Log(x.r.Context(), level, "error page", "ref", ref, "status", status, "reason", reason,
		"detail", msg, "client", x.r.RemoteAddr, "method", x.r.Method, "url", x.r.URL.RequestURI())
	h.Set(RefHeader, ref)
	w.WriteHeader(status)
	fmt.Fprintf(w, "%d %s: %s\nref=%s\n", status, http.StatusText(status), short, ref)
}
