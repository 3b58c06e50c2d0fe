package commands

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/poolctl/poolctl/worker"
)

// workerCommand is `poolctl worker`, the built-in worker the host runs for
// pools without a processModel.command: static files and CGI for the
// pool's applications, described by the host in $POOLCTL_WORKER_SPEC.
func workerCommand() *cli.Command {
	return &cli.Command{
		Name:            "worker",
		Usage:           "Run the built-in worker (started by the host; serves static files and CGI)",
		UsageText:       "PORT=N POOLCTL_WORKER_SPEC=JSON poolctl worker",
		HideHelpCommand: true,
		Action: func(c *cli.Context) error {
			addr, spec, err := worker.FromEnv(os.Getenv)
			if err != nil {
				return usagef("%v; poolctl worker is started by poolctl host", err)
			}
			// `pkill -USR1 poolctl` aimed at the host for log rotation
			// must not end built-in workers (Go's default for SIGUSR1).
			signal.Ignore(syscall.SIGUSR1)
			logger := slog.New(slog.NewTextHandler(c.App.ErrWriter, nil)).With("pool", os.Getenv("POOLCTL_APPPOOL"), "worker", os.Getenv("POOLCTL_WORKER_ID"))
			return worker.Run(c.Context, addr, spec, logger, 30*time.Second)
		},
	}
}
