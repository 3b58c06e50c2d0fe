package host

// The host under systemd: readiness, stopping and watchdog notifications
// (sd_notify), and the sockets a .socket unit passes (LISTEN_FDS). Outside
// systemd (no NOTIFY_SOCKET, WATCHDOG_USEC or LISTEN_FDS) all of it is a
// no-op.

import (
	"context"
	"errors"
	"fmt"
	"github.com/poolctl/poolctl/runstate"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/activation"
	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/poolctl/poolctl/front"
	"github.com/poolctl/poolctl/hostapi"
)

// ControlSocketName is the FileDescriptorName= of an inherited socket the
// host serves the control API on.
const ControlSocketName = "control"

// ErrNotHealthy means the watchdog's liveness check failed.
var ErrNotHealthy = errors.New("the host is not healthy")

// notifyFunc sends one sd_notify message; sent is false outside systemd.
type notifyFunc func(state string) (sent bool, err error)

// systemd sends the host's state to the service manager.
type systemd struct {
	notify  notifyFunc
	logger  *slog.Logger
	errOnce sync.Once
}

// newSystemd notifies through $NOTIFY_SOCKET. The variable stays set, since
// the host notifies more than once; workers never see it (workerEnv).
func newSystemd(logger *slog.Logger) *systemd {
	return &systemd{logger: logger, notify: func(state string) (bool, error) { return daemon.SdNotify(false, state) }}
}

// send sends the lines as one message. A failure is logged once, at debug:
// systemd then sees no readiness or watchdog ping and acts on that itself.
func (s *systemd) send(lines ...string) {
	if _, err := s.notify(strings.Join(lines, "\n")); err != nil {
		s.errOnce.Do(func() { s.logger.Debug("sd_notify failed; further failures are not logged", "err", err) })
	}
}

// ready says startup (or a reload) is complete.
func (s *systemd) ready(status string) {
	s.send(daemon.SdNotifyReady, "STATUS="+status, "MAINPID="+strconv.Itoa(os.Getpid()))
}

// stopping says shutdown began.
func (s *systemd) stopping(status string) {
	s.send(daemon.SdNotifyStopping, "STATUS="+status)
}

// watchdog sends WATCHDOG=1 every interval/2 while check passes, until ctx
// is done. Each check gets interval/4. A failing check is logged when it
// starts failing and when it recovers; while it fails no ping is sent, so
// systemd restarts a host that stays unhealthy for the whole interval.
func (s *systemd) watchdog(ctx context.Context, interval time.Duration, check func(context.Context) error) {
	if interval <= 0 {
		return
	}
	period := interval / 2
	tick := time.NewTicker(period)
	defer tick.Stop()
	healthy := true
	for {
		cctx, cancel := context.WithTimeout(ctx, period/2)
		err := check(cctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			if !healthy {
				s.logger.Info("watchdog: the host answers again; pinging systemd")
			}
			healthy = true
			s.send(daemon.SdNotifyWatchdog)
		case healthy:
			s.logger.Warn("watchdog: the host does not answer on its control socket; not pinging systemd", "err", err)
			healthy = false
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// startWatchdog starts the watchdog, which stops with ctx, once the
// control socket serves: before the first apply, which may take a while
// with many pools. READY=1 follows the first apply (serve).
func (h *Host) startWatchdog(ctx context.Context) {
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		h.logger.Warn("watchdog: WATCHDOG_USEC is not usable; no watchdog", "err", err)
		return
	}
	if interval > 0 {
		h.logger.Debug("watchdog enabled", "interval", interval)
		go h.sd.watchdog(ctx, interval, h.alive)
	}
}

// statusLine is the STATUS= of a running host, shown by systemctl status.
func (h *Host) statusLine() string {
	started := 0
	for _, p := range h.manager.Pools() {
		if p.Status().State == runstate.PoolStarted {
			started++
		}
	}
	return fmt.Sprintf("serving: %d listener(s), %d pool(s) started", len(h.front.Addrs()), started)
}

// alive is the watchdog's liveness check: the control API answers
// GET /v1/ping on a new connection to the control socket's path, as a
// tool would. It fails when the API's accept loop or HTTP server is
// wedged, when the process cannot run it within the deadline, and when the
// socket file was removed or replaced.
func (h *Host) alive(ctx context.Context) error {
	tr := &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", h.ctl.Addr().String())
		},
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://poolctl/v1/ping", nil)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotHealthy, err)
	}
	req.Header.Set(hostapi.VersionHeader, hostapi.Version)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotHealthy, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: GET /v1/ping: %s", ErrNotHealthy, resp.Status)
	}
	return nil
}

// inherited are the sockets systemd passed to the host.
type inherited struct {
	control net.Listener   // the control API's, or nil
	tcp     []net.Listener // for the front's bindings
	other   []net.Listener // neither: kept open, unused
}

// takeInherited takes the sockets of LISTEN_FDS (when LISTEN_PID is this
// process) and unsets LISTEN_*. The control socket is the unix socket
// named "control" (FileDescriptorName=control), or any unix socket at the
// --socket path.
func takeInherited(socket string, logger *slog.Logger) (inherited, error) {
	var in inherited
	named, err := activation.ListenersWithNames()
	if err != nil {
		return in, fmt.Errorf("take the sockets systemd passed: %w", err)
	}
	names := make([]string, 0, len(named))
	for name := range named {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, ln := range named[name] {
			addr := ln.Addr()
			switch {
			case addr.Network() == "tcp":
				in.tcp = append(in.tcp, ln)
			case addr.Network() == "unix" && (name == ControlSocketName || addr.String() == socket) && in.control == nil:
				in.control = ln
			case name == ControlSocketName:
				return in, fmt.Errorf("the inherited socket named %q is %s %s, not the only unix stream socket: the control socket must be one ListenStream=PATH", name, addr.Network(), addr)
			default:
				logger.Warn("inherited socket is neither TCP nor the control socket; kept open, unused", "name", name, "addr", addr.String(), "network", addr.Network())
				in.other = append(in.other, ln)
			}
			logger.Debug("inherited socket", "name", name, "addr", addr.String(), "network", addr.Network())
		}
	}
	return in, nil
}

// adoptControl serves the control API on an inherited socket: the socket
// unit created it (SocketMode=, SocketGroup=); the host only gives it the
// socket group when one is set, as hostapi.Listen does.
func adoptControl(ln net.Listener, socket string, gid int, logger *slog.Logger) (net.Listener, error) {
	path := ln.Addr().String()
	if path != socket {
		logger.Warn("the inherited control socket is not at the --socket path: tools must be given --socket", "inherited", path, "socket", socket)
	}
	if gid >= 0 {
		if err := os.Chown(path, -1, gid); err != nil {
			return nil, fmt.Errorf("chown the inherited control socket: %w", err)
		}
	}
	logger.Info("serving the control API on the socket systemd passed", "socket", path)
	return ln, nil
}

// useInherited makes the front take the inherited TCP sockets for the
// bindings that match them.
func (h *Host) useInherited(lns []net.Listener) error {
	if len(lns) == 0 {
		return nil
	}
	inh, err := front.NewInherited(lns, h.front.Listen, h.logger)
	if err != nil {
		return err
	}
	h.inherited = inh
	h.front.Listen = inh.Listen
	return nil
}

// reportUnused logs, once each, inherited sockets no binding uses.
func (h *Host) reportUnused() {
	if h.inherited != nil {
		h.inherited.ReportUnused()
	}
}
