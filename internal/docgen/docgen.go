package docgen

import (
	"github.com/poolctl/poolctl/commands"
)

// Files returns every generated file, by path relative to the repository
// root, whose directory root is (the events and metrics tables are read
// from its source).
func Files(root string) (map[string][]byte, error) {
	evs, err := readEvents(root)
	if err != nil {
		return nil, err
	}
	ms, err := readMetrics(root)
	if err != nil {
		return nil, err
	}
	r := commands.CommandReference()
	return map[string][]byte{
		"docs/reference/README.md":     []byte(indexMD()),
		"docs/reference/properties.md": []byte(propertiesMD(r)),
		"docs/reference/commands.md":   []byte(commandsMD(r)),
		"docs/reference/exit-codes.md": []byte(exitCodesMD(r)),
		"docs/reference/events.md":     []byte(eventsMD(evs)),
		"docs/reference/metrics.md":    []byte(metricsMD(ms)),
		"docs/man/poolctl.1":           []byte(poolctl1(r)),
		"docs/man/poolctl-host.8":      []byte(poolctlHost8(r, evs, ms)),
	}, nil
}
