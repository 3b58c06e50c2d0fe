package main

import (
	"os/exec"
	"strings"
	"testing"
)

// heavyInit are packages whose initialisation every poolctl command paid
// before issue 12 although no command path needs them: client_golang and
// procfs (the metrics endpoint writes the text format itself,
// metrics/expo). tablewriter stays: it is the project's table library.
var heavyInit = []string{
	"github.com/prometheus/client_golang/",
	"github.com/prometheus/procfs",
	"github.com/prometheus/client_model/",
	"github.com/prometheus/common/",
}

// TestStartupDeps: the poolctl binary links none of heavyInit (go list
// -deps of the main package, tests excluded).
func TestStartupDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for dep := range strings.SplitSeq(string(out), "\n") {
		for _, bad := range heavyInit {
			if strings.HasPrefix(dep, bad) {
				t.Errorf("poolctl links %s, whose package initialisation every command pays", dep)
			}
		}
	}
}
