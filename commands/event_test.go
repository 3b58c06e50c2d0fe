package commands

import (
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/poolctl/poolctl/host"
)

// TestStateDirOf: the host's own --state-dir wins, then the global one,
// then $POOLCTL_STATE_DIR, then the default, so `poolctl --state-dir X
// host` and `poolctl --state-dir X list event` use the same directory.
func TestStateDirOf(t *testing.T) {
	run := func(args ...string) string {
		var got string
		app := &cli.App{
			Flags:    globalFlags(),
			HideHelp: true,
			Commands: []*cli.Command{
				{Name: "host", HideHelp: true, Flags: []cli.Flag{&cli.StringFlag{Name: "state-dir", EnvVars: []string{"POOLCTL_STATE_DIR"}}},
					Action: func(c *cli.Context) error { got = stateDirOf(c); return nil }},
				{Name: "list", HideHelp: true, SkipFlagParsing: true, Subcommands: []*cli.Command{{Name: "event", HideHelp: true, SkipFlagParsing: true,
					Action: func(c *cli.Context) error { got = stateDirOf(c); return nil }}}},
			},
		}
		if err := app.Run(append([]string{"poolctl"}, args...)); err != nil {
			t.Fatal(err)
		}
		return got
	}
	t.Setenv("POOLCTL_STATE_DIR", "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"host", "--state-dir", "/a"}, "/a"},
		{[]string{"--state-dir", "/g", "host"}, "/g"},
		{[]string{"--state-dir", "/g", "host", "--state-dir", "/a"}, "/a"},
		{[]string{"--state-dir", "/g", "list", "event"}, "/g"},
		{[]string{"list", "event"}, host.DefaultStateDir()},
	} {
		if got := run(c.args...); got != c.want {
			t.Errorf("%v: state dir %q, want %q", c.args, got, c.want)
		}
	}
	t.Setenv("POOLCTL_STATE_DIR", "/env")
	for _, args := range [][]string{{"host"}, {"list", "event"}} {
		if got := run(args...); got != "/env" {
			t.Errorf("%v with $POOLCTL_STATE_DIR: %q, want /env", args, got)
		}
	}
}
