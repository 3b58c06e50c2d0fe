// Command poolctl manages IIS-style application pools on Linux: the
// appcmd-style administration tool and, as 'poolctl host', the host that
// fronts HTTP and runs the pools' workers.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/poolctl/poolctl/commands"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := commands.Main(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
