// Package host is `poolctl host`: it reads the store, runs every pool
// through apppool, fronts HTTP for every started site, serves the control
// API on the unix socket, and reconciles what runs with the store whenever
// the tool says so, on SIGHUP, and when the store file changes.
package host

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/poolctl/poolctl/apppool"
	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/front"
	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/internal/logfile"
	"github.com/poolctl/poolctl/internal/proc"
	"github.com/poolctl/poolctl/metrics"
	"github.com/poolctl/poolctl/store"
)

// Options configure a host.
type Options struct {
	StorePath     string
	Socket        string
	StateDir      string
	OperatorGroup string // group whose members may use write routes; "" for none
	SocketGroup   string // group owning the socket: its members may read; "" for the operator group
	Self          string // the poolctl binary, for the built-in worker
	Logger        *slog.Logger
	ServiceUser   string // account of NetworkService and LocalService workers; "" for nobody
	WorkerGroup   string // supplementary group of every worker (IIS_IUSRS); "" for none
	// EventLog is how the event file rotates (events.WithRotation);
	// none for the defaults.
	EventLog []events.Option

	// SampleInterval is how often worker memory is sampled for the
	// memory recycling triggers (0: apppool.DefaultSampleInterval).
	SampleInterval time.Duration
	// WorkerLog is how each pool's worker log rotates.
	WorkerLog logfile.Options
	// Metrics is the address of the Prometheus endpoint; "" takes the
	// store's host.metricsAddress (and none when that is empty too).
	Metrics string
	// ListenAddress is the address the '*' of bindings listens on
	// (--listen-address, checked with CheckListenAddress); "" for every
	// address.
	ListenAddress string
	// WorkerPorts is the range workers take their $PORT from
	// (--worker-ports); the zero range leaves the choice to the kernel.
	WorkerPorts proc.PortRange
	// HTTPServer is the server loop of HTTP/1.x connections
	// (--http-server).
	HTTPServer front.ServerKind
	// Farm, when set, makes the host follow the store in etcd (farm.go)
	// instead of the file at StorePath.
	Farm *FarmOptions
}

// DefaultStateDir is /var/lib/poolctl for root and the XDG state directory
// otherwise.
func DefaultStateDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/poolctl"
	}
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "poolctl")
}

// Host is a running host.
type Host struct {
	opts    Options
	store   *store.Store
	manager *apppool.Manager
	front   *front.Front
	events  *events.Recorder
	logger  *slog.Logger

	reconcileMu sync.Mutex
	cfgMu       sync.Mutex
	cfg         *store.Config // the configuration that runs

	pipe    *pipeline     // the one reconcile queue (pipeline.go)
	first   *store.Config // the store start loaded, for the first apply (apply.go)
	prepErr error         // what prepare could not do, reported by the first apply

	ctl    net.Listener // the control socket, taken before anything starts
	opGID  int          // the operator group, -1 for none
	opName string

	metrics metricsState // the Prometheus endpoint (metrics.go)
	signals signals      // SIGHUP and SIGUSR1 (watch.go)

	failures  failures         // what the last apply could not do (failures.go)
	sd        *systemd         // sd_notify and the watchdog (systemd.go)
	inherited *front.Inherited // sockets systemd passed for the front, or nil
	farm      *farmHost        // the farm membership of a host on etcd, or nil (farm.go)
	connected *metrics.StoreConnected
	release   memRelease // the heap's free pages back to the system at rest (rest.go)
}

// Run runs the host until ctx is done, then shuts down gracefully: it stops
// accepting, lets requests in flight finish within the pools'
// shutdownTimeLimit, and stops every worker.
func Run(ctx context.Context, opts Options) error {
	sigs := notifySignals()
	defer sigs.stop()
	h, err := start(ctx, opts)
	if err != nil {
		return err
	}
	h.signals = sigs
	return h.serve(ctx)
}

func start(ctx context.Context, opts Options) (*Host, error) {
	logger := opts.Logger
	applyWorkerPorts(opts.WorkerPorts, logger) // worker_ports.go
	st, fh, cfg, err := openStore(ctx, opts)   // farm_start.go
	if err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started && fh != nil {
			fh.release()
		}
	}()
	// Take the control socket first: a second host on the same socket
	// must fail before it starts pools, listens, or records events into
	// the state of the host that runs.
	inh, err := takeInherited(opts.Socket, logger)
	if err != nil {
		return nil, err
	}
	ln, gid, opName, err := listenControl(opts, inh.control)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.StateDir, 0o755); err != nil {
		ln.Close()
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	rec, err := events.Open(opts.StateDir, logger, opts.EventLog...)
	if err != nil {
		ln.Close()
		return nil, err
	}
	if os.Geteuid() != 0 {
		logger.Warn("the host is not running as root: workers run as the host's own user and no per-pool identity is applied", "uid", os.Geteuid())
	}
	ids, err := newIdentities(opts)
	if err != nil {
		ln.Close()
		rec.Close()
		return nil, err
	}
	// Kill what a host that is gone (SIGKILL) left in its cgroups, before
	// any pool starts (apppool/jail.go).
	apppool.SweepLeftovers(logger)
	h := &Host{opts: opts, store: st, events: rec, logger: logger, ctl: ln, opGID: gid, opName: opName, sd: newSystemd(logger), farm: fh, connected: &metrics.StoreConnected{}}
	if fh != nil {
		h.connected = fh.gauge
	}
	h.manager = apppool.NewManager(apppool.Launcher{Self: opts.Self, LogDir: filepath.Join(opts.StateDir, "logs"), BaseEnv: workerEnv(), Identities: ids, SampleInterval: opts.SampleInterval, WorkerLog: opts.WorkerLog,
		OnRest: h.release.atRest, OnBusy: h.release.atBusy}, rec, logger) // rest.go
	h.front = front.New(front.PoolsOf(h.manager), logger)
	h.front.Server = opts.HTTPServer
	h.front.LogDir = filepath.Join(opts.StateDir, "logs", "sites")
	if err := h.useInherited(inh.tcp); err != nil {
		ln.Close()
		rec.Close()
		return nil, err
	}
	// serve creates the pools (none starts yet) once the control API
	// serves, then runs the first apply (which starts them, opens the
	// listeners and routes).
	h.first = cfg
	h.pipe = newPipeline(h.applyOnce)
	started = true
	return h, nil
}

// workerEnv is the environment workers start from: the host's, without
// poolctl's own and systemd's variables.
func workerEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "POOLCTL_") || strings.HasPrefix(name, "LISTEN_") || name == "NOTIFY_SOCKET" || name == "WATCHDOG_USEC" || name == "WATCHDOG_PID" {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func (h *Host) config() *store.Config {
	h.cfgMu.Lock()
	defer h.cfgMu.Unlock()
	return h.cfg
}

// listenControl looks up the operator and socket groups and opens the
// control socket owned by the socket group (readers); without one, by the
// operator group, so operators can connect.
// An inherited control socket (systemd.go) is used instead of a new one.
func listenControl(opts Options, inherited net.Listener) (ln net.Listener, gid int, opName string, err error) {
	gid = -1
	if opts.OperatorGroup != "" {
		if gid, opName, err = lookupGroup("operator", opts.OperatorGroup); err != nil {
			return nil, 0, "", err
		}
	}
	sockGID := gid
	if opts.SocketGroup != "" {
		if sockGID, _, err = lookupGroup("socket", opts.SocketGroup); err != nil {
			return nil, 0, "", err
		}
	}
	if inherited != nil {
		ln, err = adoptControl(inherited, opts.Socket, sockGID, opts.Logger)
	} else {
		ln, err = hostapi.Listen(opts.Socket, sockGID)
	}
	if err != nil {
		return nil, 0, "", err
	}
	return ln, gid, opName, nil
}

// lookupGroup finds a group by name, or by number.
func lookupGroup(role, name string) (int, string, error) {
	g, err := user.LookupGroup(name)
	if _, nerr := strconv.Atoi(name); err != nil && nerr == nil {
		g, err = user.LookupGroupId(name)
	}
	if err != nil {
		return 0, "", fmt.Errorf("%s group %q: %w", role, name, err)
	}
	gid, err := strconv.Atoi(g.Gid)
	if err != nil {
		return 0, "", fmt.Errorf("%s group %q: gid %q: %w", role, name, g.Gid, err)
	}
	return gid, g.Name, nil
}

func (h *Host) serve(ctx context.Context) error {
	ln := touchListener{Listener: h.ctl, touch: h.manager.Touch} // a command is an activity (rest.go)
	api := hostapi.NewServer(hostapi.ServerOptions{HostUID: os.Geteuid(), OperatorGroup: h.opGID, OperatorName: h.opName, Logger: h.logger})
	h.routes(api)
	// The socket answers from the host's first moment: status (pending
	// until the first apply) at once; every question about pools once they
	// all exist, so that no answer lists some of them.
	prepared := make(chan struct{})
	api.Gate(prepared, "GET /v1/status")
	apiCtx, stopAPI := context.WithCancel(context.WithoutCancel(ctx))
	apiDone := make(chan error, 1)
	go func() { apiDone <- api.Serve(apiCtx, ln) }()
	h.startWatchdog(apiCtx) // the watchdog runs while the API does
	h.prepare(ctx, h.first)
	close(prepared)
	// The first apply runs once the API serves: the control socket
	// answers (status says pending) while pools come up.
	pipeCtx, stopPipe := context.WithCancel(ctx)
	pipeDone := make(chan struct{})
	go func() { defer close(pipeDone); h.pipe.run(pipeCtx) }()
	go h.watch(ctx) // triggers that come during the first apply queue
	farmCtx, stopFarm := context.WithCancel(ctx)
	farmDone := make(chan struct{})
	if h.farm != nil {
		go func() { defer close(farmDone); h.runFarm(farmCtx, api.Handler()) }() // farm_run.go
	} else {
		close(farmDone)
	}
	if err := h.pipe.request().wait(ctx); err != nil && ctx.Err() == nil {
		h.logger.Error("first apply", "err", err)
	}
	h.logger.Info("poolctl host ready", "socket", h.opts.Socket, "store", h.opts.StorePath, "listening", h.front.Addrs())
	h.sd.ready(h.statusLine()) // READY=1 once the first apply ran (systemd.go)
	// Hand the start-up garbage (the parsed store, pool settings, package
	// initialisation) back to the kernel now rather than over minutes: a
	// host at rest should cost what it holds.
	debug.FreeOSMemory()
	<-ctx.Done()
	stopFarm()
	<-farmDone
	if h.farm != nil && h.farm.isConnected() {
		h.farm.release() // tools stop sending commands to this host
	}
	stopPipe()
	<-pipeDone // no apply runs from now on
	h.sd.stopping("shutting down: finishing requests in flight")
	h.logger.Info("shutting down: finishing requests in flight")
	h.shutdown()
	stopAPI()
	<-apiDone
	return nil
}

// shutdownMargin is what the shutdown deadline adds to the longest
// shutdownTimeLimit: time for the front to finish the responses of the
// requests the pools' workers completed or lost, and to close the logs.
const shutdownMargin = 5 * time.Second

// shutdown stops the front and every pool under one deadline, counted
// from its start: the longest shutdownTimeLimit of any pool plus
// shutdownMargin (95 s with the defaults, inside the unit's 120 s
// TimeoutStopSec). The front stops accepting and drains while the pools
// drain and stop their workers, at the same time: a worker still busy at
// its pool's shutdownTimeLimit is killed, which ends the request the
// front was waiting for, so the two limits never add up. Whatever is still
// running at the deadline is left behind: the host exits, and its workers
// die with it (parent-death signal; systemd's KillMode=mixed SIGKILLs what
// is left).
func (h *Host) shutdown() {
	grace := 90 * time.Second
	if cfg := h.config(); cfg != nil {
		grace = maxShutdown(cfg)
	}
	deadline := grace + shutdownMargin
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := h.front.Shutdown(ctx); err != nil {
				h.logger.Warn("front shutdown", "err", err)
			}
		})
		wg.Go(func() { h.manager.Shutdown(ctx) })
		wg.Wait()
	}()
	select {
	case <-done:
	case <-ctx.Done():
		h.logger.Warn("shutdown deadline passed: exiting; what is still running is killed", "deadline", deadline)
	}
	h.reconcileMu.Lock()
	h.closeMetrics()
	h.reconcileMu.Unlock()
	h.events.Close()
}

// maxShutdown is the longest shutdownTimeLimit of any pool.
func maxShutdown(cfg *store.Config) time.Duration {
	var d time.Duration
	f := store.PoolSchema.Field("processModel.shutdownTimeLimit")
	for i := range cfg.ApplicationPools {
		v, _ := cfg.Effective(&cfg.ApplicationPools[i], f)
		d = max(d, v.(store.TimeSpan).Duration())
	}
	return d
}
