package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdEventFixture is the script command
// "eventfixture FILE AGE ID POOL PID REASON...": append one event line to
// FILE (creating it and its directory) stamped AGE (a Go duration) before
// now, so scripts can test /since against the real clock.
func cmdEventFixture(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 6 {
		ts.Fatalf("usage: eventfixture FILE AGE ID POOL PID REASON...")
	}
	age, err := time.ParseDuration(args[1])
	ts.Check(err)
	id, err := strconv.Atoi(args[2])
	ts.Check(err)
	pid, err := strconv.Atoi(args[4])
	ts.Check(err)
	line, err := json.Marshal(map[string]any{
		"time": time.Now().Add(-age).UTC().Format(time.RFC3339Nano), "id": id,
		"pool": args[3], "pid": pid, "reason": strings.Join(args[5:], " "),
	})
	ts.Check(err)
	name := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(filepath.Dir(name), 0o755))
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	ts.Check(err)
	_, err = f.Write(append(line, '\n'))
	ts.Check(err)
	ts.Check(f.Close())
}
