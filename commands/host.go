package commands

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/poolctl/poolctl/apppool"
	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/front"
	"github.com/poolctl/poolctl/host"
	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/internal/etcdstore"
	"github.com/poolctl/poolctl/internal/farm"
	"github.com/poolctl/poolctl/internal/proc"
	"github.com/poolctl/poolctl/metrics"
	"github.com/poolctl/poolctl/store"
)

// hostCommand is `poolctl host`: the long-running companion process.
func hostCommand() *cli.Command {
	return &cli.Command{
		Name:            "host",
		Usage:           "Run the host in the foreground: HTTP front, pools and workers",
		UsageText:       "poolctl [--config FILE] [--socket PATH] host [--state-dir DIR] [--operator-group GROUP] [--socket-group GROUP] [--log-level LEVEL] [--metrics ADDR] [--service-user USER] [--worker-group GROUP] [--sample-interval D] [--event-log-max-size SIZE] [--event-log-max-age D] [--event-log-keep N] [--worker-log-max-size SIZE] [--worker-log-max-age D] [--worker-log-keep N] [--listen-address IP] [--worker-ports LOW-HIGH] [--http-server lean|net/http] [--host-name NAME] [--lease-ttl D]",
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "state-dir", EnvVars: []string{"POOLCTL_STATE_DIR"}, Usage: "runtime files: worker logs, events (default /var/lib/poolctl for root, $XDG_STATE_HOME/poolctl otherwise)"},
			&cli.StringFlag{Name: "event-log-max-size", Value: "10M", EnvVars: []string{"POOLCTL_EVENT_LOG_MAX_SIZE"}, Usage: "rotate events.jsonl when it would grow past this size (bytes, or 512K, 10M, 1G)"},
			&cli.IntFlag{Name: "event-log-keep", Value: events.DefaultKeep, EnvVars: []string{"POOLCTL_EVENT_LOG_KEEP"}, Usage: "rotated event files to keep (events.jsonl.1 ... .N); 0 keeps none"},
			&cli.DurationFlag{Name: "event-log-max-age", EnvVars: []string{"POOLCTL_EVENT_LOG_MAX_AGE"}, Usage: "also rotate events.jsonl once it is older than this (0 = by size only, else at least 1m)"},
			&cli.StringFlag{Name: "worker-log-max-size", Value: "10M", EnvVars: []string{"POOLCTL_WORKER_LOG_MAX_SIZE"}, Usage: "rotate a pool's worker log (logs/<pool>.log) when it would grow past this size (bytes, or 512K, 10M, 1G)"},
			&cli.DurationFlag{Name: "worker-log-max-age", EnvVars: []string{"POOLCTL_WORKER_LOG_MAX_AGE"}, Usage: "also rotate a worker log once it is older than this (0 = by size only, else at least 1m)"},
			&cli.IntFlag{Name: "worker-log-keep", Value: 5, EnvVars: []string{"POOLCTL_WORKER_LOG_KEEP"}, Usage: "rotated worker logs to keep per pool (<pool>.log.1 ... .N, 0 to 1000); 0 keeps none"},
			&cli.StringFlag{Name: "operator-group", EnvVars: []string{"POOLCTL_OPERATOR_GROUP"}, Usage: "group whose members may start, stop and recycle through the socket (besides root and the host's user)"},
			&cli.StringFlag{Name: "socket-group", EnvVars: []string{"POOLCTL_SOCKET_GROUP"}, Usage: "group owning the control socket (mode 0660): its members may read (list wp, list request); default the operator group"},
			&cli.StringFlag{Name: "metrics", EnvVars: []string{"POOLCTL_METRICS"}, Usage: "serve Prometheus metrics at http://ADDR/metrics (:9419 listens on 127.0.0.1 only); default the store's host.metricsAddress, off when empty"},
			&cli.StringFlag{Name: "log-level", Value: "info", EnvVars: []string{"POOLCTL_LOG_LEVEL"}, Usage: "debug, info, warn or error"},
			&cli.DurationFlag{Name: "sample-interval", Value: apppool.DefaultSampleInterval, EnvVars: []string{"POOLCTL_SAMPLE_INTERVAL"}, Usage: "how often worker memory is sampled from /proc for the memory recycling triggers (10ms to 1h)"},
			&cli.StringFlag{Name: "service-user", EnvVars: []string{"POOLCTL_SERVICE_USER"}, Usage: "account NetworkService and LocalService workers run as (default nobody)"},
			&cli.StringFlag{Name: "listen-address", EnvVars: []string{"POOLCTL_LISTEN_ADDRESS"}, Usage: "the address the * of bindings listens on, one IP of this machine (multi-homed servers; 127.0.0.2, 127.0.0.3 ... for a test farm on one machine); default every address"},
			&cli.StringFlag{Name: "worker-ports", EnvVars: []string{"POOLCTL_WORKER_PORTS"}, Usage: "take workers' loopback ports ($PORT) from LOW-HIGH (e.g. 20000-20999; reserve it with sysctl net.ipv4.ip_local_reserved_ports) instead of the kernel's ephemeral range; default the kernel's choice"},
			&cli.StringFlag{Name: "http-server", Value: "lean", EnvVars: []string{"POOLCTL_HTTP_SERVER"}, Usage: "server loop of HTTP/1.x connections, plain or TLS: lean (one goroutine per connection, none per request) or net/http (Go's server, as before 2026-12); HTTP/2 always uses net/http"},
			&cli.StringFlag{Name: "host-name", EnvVars: []string{"POOLCTL_HOST_NAME"}, Usage: "with --config etcd://...: this host's name in the farm (default the machine's hostname)"},
			&cli.DurationFlag{Name: "lease-ttl", Value: 10 * time.Second, EnvVars: []string{"POOLCTL_LEASE_TTL"}, Usage: "with --config etcd://...: how long after the host stops renewing its lease (crash, lost network) the farm sees it Gone (2s to 5m)"},
			&cli.StringFlag{Name: "worker-group", EnvVars: []string{"POOLCTL_WORKER_GROUP"}, Usage: "supplementary group every worker gets unless its pool sets manualGroupMembership (the IIS_IUSRS analogue; default none)"},
		},
		Action: func(c *cli.Context) error {
			farmOpts, err := hostFarmOptions(c)
			if err != nil {
				return err
			}
			if c.NArg() > 0 {
				return usagef("host takes no arguments, got %q; flags: --state-dir, --operator-group, --log-level", c.Args().First())
			}
			var level slog.Level
			if err := level.UnmarshalText([]byte(c.String("log-level"))); err != nil {
				return usagef("--log-level %q: expected debug, info, warn or error", c.String("log-level"))
			}
			listen := ""
			if a := c.String("listen-address"); a != "" {
				if listen, err = host.CheckListenAddress(a); err != nil {
					return fmt.Errorf("%w: %w", ErrUsage, err)
				}
			}
			var workerPorts proc.PortRange
			if s := c.String("worker-ports"); s != "" {
				if workerPorts, err = proc.ParsePortRange(s); err != nil {
					return usagef("bad --worker-ports %v", err)
				}
			}
			httpServer, err := front.ParseServerKind(c.String("http-server"))
			if err != nil {
				return usagef("--http-server: %v", err)
			}
			eventLog, err := eventLogOptions(c)
			if err != nil {
				return err
			}
			workerLog, err := workerLogOptions(c)
			if err != nil {
				return err
			}
			if iv := c.Duration("sample-interval"); iv < 10*time.Millisecond || iv > time.Hour {
				return usagef("--sample-interval %s: expected a duration from 10ms to 1h", iv)
			}
			logger := slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: level}))
			// Packages without a logger of their own report into the
			// host's log: a log file that cannot be written says so once
			// (internal/logfile).
			slog.SetDefault(logger)
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find the poolctl binary for the built-in worker: %w", err)
			}
			opts := host.Options{
				StorePath:     orDefault(c.String("config"), store.DefaultPath()),
				Socket:        orDefault(c.String("socket"), hostapi.DefaultSocket()),
				StateDir:      stateDirOf(c),
				OperatorGroup: c.String("operator-group"),
				SocketGroup:   c.String("socket-group"),
				Self:          self,
				Logger:        logger,
				EventLog:      eventLog,
				ServiceUser:   c.String("service-user"),
				WorkerGroup:   c.String("worker-group"),
			}
			opts.SampleInterval = c.Duration("sample-interval")
			if m := c.String("metrics"); m != "" {
				if _, err := metrics.NormalizeAddress(m); err != nil {
					return usagef("--metrics: %v", err)
				}
				opts.Metrics = m
			}
			opts.WorkerLog = workerLog
			opts.ListenAddress = listen
			opts.WorkerPorts = workerPorts
			opts.HTTPServer = httpServer
			if farmOpts != nil {
				defer farmOpts.Backend.Close()
				opts.Farm = farmOpts
				opts.StorePath = farmOpts.Backend.Location()
			}
			err = host.Run(c.Context, opts)
			if errors.Is(err, farm.ErrNameTaken) {
				return fmt.Errorf("%w: %w", ErrUsage, err)
			}
			return err
		},
	}
}

// hostFarmOptions reads the farm flags of a host whose --config is a
// store in etcd; nil for a store file.
func hostFarmOptions(c *cli.Context) (*host.FarmOptions, error) {
	spec := c.String("config")
	scheme, ok := store.HasScheme(spec)
	if !ok {
		for _, f := range []string{"host-name", "lease-ttl"} {
			if c.IsSet(f) {
				return nil, usagef("--%s applies to a host that follows a store in etcd (--config etcd://HOST:PORT/PREFIX), not to the store file %s", f, orDefault(spec, store.DefaultPath()))
			}
		}
		return nil, nil
	}
	if scheme != etcdstore.Scheme {
		return nil, store.UnknownSchemeError(spec, scheme, "etcd://HOST:PORT[,HOST:PORT...]/PREFIX")
	}
	loc, err := etcdstore.ParseLocation(spec)
	if err != nil {
		return nil, err
	}
	name := c.String("host-name")
	if name == "" {
		if name, err = os.Hostname(); err != nil {
			return nil, fmt.Errorf("find this machine's name for the farm (give --host-name): %w", err)
		}
		if i := strings.IndexByte(name, '.'); i > 0 && farm.ValidateName(name) != nil {
			name = name[:i]
		}
	}
	if err := farm.ValidateName(name); err != nil {
		return nil, usagef("--host-name: %v", err)
	}
	ttl := c.Duration("lease-ttl")
	if ttl < 2*time.Second || ttl > 5*time.Minute {
		return nil, usagef("--lease-ttl %s: expected a duration from 2s to 5m", ttl)
	}
	return &host.FarmOptions{Backend: etcdstore.New(loc, c.Duration("timeout"), os.Getenv), Name: name, LeaseTTL: ttl}, nil
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}
