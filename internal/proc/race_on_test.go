//go:build race

package proc

// raceEnabled: the test binary is built with -race (allocation counts
// are not those of a normal build).
const raceEnabled = true
