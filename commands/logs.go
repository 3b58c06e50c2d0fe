package commands

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/internal/logfile"
)

// minLogMaxAge is the shortest age rotation the host accepts: anything
// shorter is a typo (10s for 10m) that would rotate away the logs.
const minLogMaxAge = time.Minute

// workerLogOptions reads the host's --worker-log-max-size,
// --worker-log-max-age and --worker-log-keep.
func workerLogOptions(c *cli.Context) (logfile.Options, error) {
	size, err := events.ParseSize(c.String("worker-log-max-size"))
	if err != nil {
		return logfile.Options{}, usagef("--worker-log-max-size: %v", err)
	}
	if size < 1024 {
		return logfile.Options{}, usagef("--worker-log-max-size %s is too small: expected at least 1K", c.String("worker-log-max-size"))
	}
	age, err := logMaxAge(c, "worker-log-max-age")
	if err != nil {
		return logfile.Options{}, err
	}
	keep := c.Int("worker-log-keep")
	if keep < 0 || keep > 1000 {
		return logfile.Options{}, usagef("--worker-log-keep %d: expected 0 to 1000", keep)
	}
	return logfile.Options{MaxSize: size, MaxAge: age, Keep: keep}, nil
}

// logMaxAge reads a --*-log-max-age flag: 0 (rotate by size only) or at
// least minLogMaxAge.
func logMaxAge(c *cli.Context, flag string) (time.Duration, error) {
	age := c.Duration(flag)
	if age != 0 && age < minLogMaxAge {
		return 0, usagef("--%s %s: expected 0 (by size only) or a duration of at least %s", flag, age, minLogMaxAge)
	}
	return age, nil
}
