// Package hostapi is the contract between the poolctl tool and the host:
// the wire types, the version header, and a typed client that speaks
// HTTP+JSON over the host's unix control socket.
package hostapi
