// Package logfile is an append-only log file that rotates itself by size
// and by age, keeps a bounded number of rotated files (NAME.1 the newest
// ... NAME.Keep the oldest) and can be reopened after an external rename
// (logrotate, then SIGUSR1). A File is safe for concurrent use, and each
// Write lands whole in one file: rotation happens only between writes.
package logfile
