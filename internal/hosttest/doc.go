// Package hosttest holds process-level tests of `poolctl host`: the real
// binary, real worker processes, real HTTP on 127.0.0.1 and real faults.
package hosttest
