package apppool

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"runtime"
	"strings"
	"time"
	"unique"

	"github.com/poolctl/poolctl/store"
	"github.com/poolctl/poolctl/worker"
)

// Settings are the effective settings of one pool that the runtime acts on,
// resolved from the store (pool, then applicationPoolDefaults, then schema
// defaults).
type Settings struct {
	Name              string
	AutoStart         bool
	AlwaysRunning     bool
	QueueLength       int
	MaxProcesses      int
	MaxConcurrent     int // per worker; 0 = unlimited
	IdleTimeout       time.Duration
	IdleSuspend       bool
	StartupTimeLimit  time.Duration
	ShutdownTimeLimit time.Duration
	PingPath          string
	Overlap           bool // overlapping recycle (not disallowOverlappingRotation)
	RecycleOnChange   bool // recycle when start-time settings change
	TCPLevel          bool // reset connections instead of answering 503
	Command           []string
	WorkingDirectory  string
	Env               []string           // environmentVariables and Windows-only attributes
	Spec              worker.Spec        // what the built-in worker serves
	Resolved          store.PoolSettings // every effective value
	startHash         string             // digest of what a worker reads at start
}

// NewSettings resolves the settings of pool p in cfg.
func NewSettings(cfg *store.Config, p *store.AppPool) Settings {
	r := cfg.Resolved(p)
	s := Settings{
		Name:              p.Name,
		AutoStart:         *r.AutoStart,
		AlwaysRunning:     *r.StartMode == "AlwaysRunning",
		QueueLength:       int(*r.QueueLength),
		MaxProcesses:      int(*r.ProcessModel.MaxProcesses),
		MaxConcurrent:     int(*r.ProcessModel.MaxConcurrentRequests),
		IdleTimeout:       r.ProcessModel.IdleTimeout.Duration(),
		IdleSuspend:       *r.ProcessModel.IdleTimeoutAction == "Suspend",
		StartupTimeLimit:  r.ProcessModel.StartupTimeLimit.Duration(),
		ShutdownTimeLimit: r.ProcessModel.ShutdownTimeLimit.Duration(),
		PingPath:          *r.ProcessModel.PingPath,
		Overlap:           !*r.Recycling.DisallowOverlappingRotation,
		RecycleOnChange:   !*r.Recycling.DisallowRotationOnConfigChange,
		TCPLevel:          *r.Failure.LoadBalancerCapabilities == "TcpLevel",
		Command:           *r.ProcessModel.Command,
		WorkingDirectory:  *r.ProcessModel.WorkingDirectory,
		Resolved:          r,
	}
	if s.MaxProcesses == 0 {
		s.MaxProcesses = runtime.NumCPU()
	}
	for _, e := range *r.EnvironmentVariables {
		s.Env = append(s.Env, e.Name+"="+e.Value)
	}
	for i := range store.PoolSchema.Fields {
		f := &store.PoolSchema.Fields[i]
		if f.Windows {
			// Interned: these are mostly the same in every pool, and a
			// host of hundreds of pools keeps one copy of each.
			v, _ := f.Get(&r)
			s.Env = append(s.Env, unique.Make(f.EnvName()+"="+f.Format(v)).Value())
		}
	}
	s.Spec = builtinSpec(cfg, p.Name)
	s.startHash = s.digest()
	return s
}

// builtinSpec lists what the built-in worker of the pool serves: every
// application that uses it, with its virtual directories.
func builtinSpec(cfg *store.Config, pool string) worker.Spec {
	var apps []worker.App
	for _, site := range cfg.Sites {
		for _, a := range site.Applications {
			if strings.EqualFold(a.ApplicationPool, pool) {
				apps = append(apps, workerApp(site.Name, a))
			}
		}
	}
	return specOf(apps)
}

// specOf is the built-in worker's spec serving exactly apps.
func specOf(apps []worker.App) worker.Spec {
	return worker.Spec{
		DefaultDocuments: []string{"index.html", "index.htm", "default.htm", "default.html"},
		CGIExtensions:    []string{".cgi"},
		Applications:     append([]worker.App{}, apps...),
	}
}

// workerApp is application a of site as the built-in worker serves it.
func workerApp(site string, a store.Application) worker.App {
	app := worker.App{Site: site, Path: a.Path, PhysicalPath: a.PhysicalPath, VirtualDirectories: []worker.VirtualDirectory{}}
	for _, v := range a.VirtualDirectories {
		app.VirtualDirectories = append(app.VirtualDirectories, worker.VirtualDirectory{Path: v.Path, PhysicalPath: v.PhysicalPath})
	}
	return app
}

// digest covers everything a worker reads when it starts: a change to any
// of it needs a recycle (event 5080) for running workers to see it.
func (s *Settings) digest() string {
	var recycle []string
	for i := range store.PoolSchema.Fields {
		f := &store.PoolSchema.Fields[i]
		if f.Recycle {
			v, _ := f.Get(&s.Resolved)
			recycle = append(recycle, f.Path+"="+f.Format(v))
		}
	}
	// maxProcesses is not in it: the loop starts or drains workers to
	// match it without replacing the others (reconfigure.go).
	b, _ := json.Marshal(struct {
		Recycle  []string
		Spec     worker.Spec
		PingPath string
	}{recycle, s.Spec, s.PingPath})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// SpecJSON is the built-in worker's spec as its environment carries it.
func (s *Settings) SpecJSON() string {
	b, _ := json.Marshal(s.Spec)
	return string(b)
}
