//go:build race

package doctest

// raceEnabled: the test binary is built with -race.
const raceEnabled = true
