package commands

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/internal/etcdstore"
	"github.com/poolctl/poolctl/store"
)

// Main runs poolctl with the process's arguments and returns its exit code.
// It is the package's only entry point; main.go passes the code to os.Exit.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := newApp(stdin, stdout, stderr)
	err := app.RunContext(ctx, normalizeArgs(args))
	if errors.Is(err, errHelpShown) {
		err = nil
	}
	if err != nil {
		printError(stderr, err)
	}
	return exitCode(err)
}

// globalFlags are the flags that come before the verb.
func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "config", Aliases: []string{"c"}, EnvVars: []string{"POOLCTL_CONFIG"}, Usage: "store file (default: /etc/poolctl/applicationHost.toml for root, $XDG_CONFIG_HOME/poolctl/applicationHost.toml otherwise)"},
		&cli.StringFlag{Name: "socket", EnvVars: []string{"POOLCTL_SOCKET"}, Usage: "control socket of poolctl host (default: /run/poolctl/host.sock for root, $XDG_RUNTIME_DIR/poolctl/host.sock otherwise)"},
		&cli.BoolFlag{Name: "help", Aliases: []string{"h"}, Usage: "show help"},
		&cli.DurationFlag{Name: "timeout", Value: 30 * time.Second, EnvVars: []string{"POOLCTL_TIMEOUT"}, Usage: "how long to wait for the store lock and for the host"},
		&cli.StringFlag{Name: "state-dir", EnvVars: []string{"POOLCTL_STATE_DIR"}, Usage: "the host's state directory, where list event reads when no host runs (default /var/lib/poolctl for root, $XDG_STATE_HOME/poolctl otherwise)"},
	}
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:            "poolctl",
		Usage:           "IIS-style application pools for Linux",
		UsageText:       "poolctl [--config FILE] [--socket PATH] [--timeout D] <verb> <object> [id] [/param:value ...]",
		Flags:           globalFlags(),
		HideHelp:        true,
		Reader:          stdin,
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		// urfave/cli would call os.Exit for ExitCoder errors; exit codes are
		// mapped by Main instead.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usagef("%v; see 'poolctl help'", err)
		},
		EnableBashCompletion: true,
		Action: func(c *cli.Context) error {
			if c.Bool("help") {
				printOverview(c.App.Writer)
				return nil
			}
			if c.NArg() == 0 {
				return usagef("no verb given; see 'poolctl help'")
			}
			return usagef("unknown verb %q; verbs: %s (see 'poolctl help')", c.Args().First(), strings.Join(verbNames(), ", "))
		},
	}
	app.Commands = append(verbCommands(), helpCommand(), hostCommand(), workerCommand(), versionCommand(), completionCommand(), completeCommand())
	// urfave/cli answers --help and -h itself, before Action, with its app
	// help template: make that print the same overview as 'poolctl help'.
	var help strings.Builder
	printOverview(&help)
	app.Metadata = map[string]any{"overview": help.String()}
	app.CustomAppHelpTemplate = `{{index .Metadata "overview"}}`
	return app
}

// normalizeArgs lower-cases the verb and the object, so "LIST APPPOOLS"
// works as appcmd's does, skipping the global flags before them.
func normalizeArgs(args []string) []string {
	out := append([]string{}, args...)
	i := 1
	for i < len(out) && strings.HasPrefix(out[i], "-") && out[i] != "-" {
		name := strings.TrimLeft(out[i], "-")
		i++
		if !strings.Contains(name, "=") && flagTakesValue(name) && i < len(out) {
			i++
		}
	}
	for n := 0; n < 2 && i < len(out); n, i = n+1, i+1 {
		if strings.HasPrefix(out[i], "/") || strings.HasPrefix(out[i], "-") {
			break
		}
		out[i] = strings.ToLower(out[i])
	}
	return out
}

func flagTakesValue(name string) bool {
	switch name {
	case "config", "c", "socket", "timeout", "state-dir":
		return true
	}
	return false
}

// env is what a command needs from the outside world.
type env struct {
	ctx     context.Context
	store   *store.Store
	host    *hostapi.Client
	timeout time.Duration
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	now     func() time.Time
	statDir string // the host's state directory, read by list event
}

func newEnv(c *cli.Context) *env {
	path := c.String("config")
	if path == "" {
		path = store.DefaultPath()
	}
	socket := c.String("socket")
	if socket == "" {
		socket = hostapi.DefaultSocket()
	}
	return &env{
		ctx:     c.Context,
		store:   etcdstore.Open(path, c.Duration("timeout")),
		host:    hostClient(socket),
		timeout: c.Duration("timeout"),
		stdin:   c.App.Reader,
		stdout:  c.App.Writer,
		stderr:  c.App.ErrWriter,
		now:     time.Now,
		statDir: stateDirOf(c),
	}
}

// withTimeout bounds an operation by --timeout.
func (e *env) withTimeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(e.ctx, e.timeout)
}

// load reads the store.
func (e *env) load() (*store.Config, error) {
	ctx, cancel := e.withTimeout()
	defer cancel()
	return e.store.Load(ctx)
}

// update mutates the store under its lock and then tells a running host to
// reconcile. A host that is not running is not an error: it reads the store
// when it starts.
func (e *env) update(fn func(*store.Config) error) (bool, error) {
	ctx, cancel := e.withTimeout()
	defer cancel()
	changed, err := e.store.Update(ctx, fn)
	if err != nil || !changed {
		return changed, err
	}
	e.notifyHost(ctx)
	return true, nil
}

// notifyHost asks a running host to reconcile with the store; a host that is
// down needs no telling, and any other failure is reported as a warning.
func (e *env) notifyHost(ctx context.Context) {
	if _, err := os.Stat(e.host.Socket); err != nil && !e.onFarm() {
		return
	}
	reportReconcile(ctx, e) // runtime.go
}
