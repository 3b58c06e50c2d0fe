// Package accesslog writes one line per HTTP request to a per-site access
// log, in IIS's W3C extended log format (the default field set) or as JSON
// lines, without ever blocking the request path on disk I/O.
//
// Log.Write formats an Entry into a pooled buffer and appends it to an
// in-memory pending buffer under a short mutex. A background goroutine per
// Log writes the pending lines to a rotating file (internal/logfile) every
// FlushInterval, or sooner once half of BufferSize is pending. When the
// pending buffer is full because the disk cannot keep up, new lines are
// dropped and counted (Log.Dropped) instead of making the request wait.
//
// Every request is exactly one line in both formats: in W3C lines spaces and
// control characters inside values become '+', in JSON lines they are
// escaped, so a request can never inject a line of its own.
package accesslog
