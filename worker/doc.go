// Package worker is poolctl's built-in worker, `poolctl worker`: the w3wp
// analogue that a pool runs when it has no processModel.command. It serves
// the pool's applications over HTTP on the loopback address the host gives
// it: static files from each application's physical path (with default
// documents, no directory listings) and CGI scripts through net/http/cgi.
//
// A request's path is mapped to a file in three steps: the application
// with the longest matching path, then the longest matching virtual
// directory below it (the application's physical path is its "/"), then
// the rest of the path below that directory's physical path. Matching is
// case-insensitive and on whole segments, as in IIS; the file system
// itself is case-sensitive.
//
// Safety rules, all applied before the file system is touched: paths
// containing NUL, a backslash, an encoded slash or backslash, or a ".."
// segment are rejected with 400; segments starting with "." are hidden
// (404), except ".well-known" (RFC 8615, needed for ACME challenges).
// Symbolic links are followed only while they resolve inside the physical
// path of the directory the request was mapped to; a link that leads
// outside answers 404 and logs a warning (IIS would follow it; a worker
// that can be pointed anywhere by a symlink is not worth that
// compatibility). The final open goes through os.Root on the resolved
// directory, so a link swapped in after the check cannot escape either.
package worker
