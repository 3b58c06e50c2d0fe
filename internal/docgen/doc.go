// Package docgen writes poolctl's reference documentation from the code:
// docs/reference/*.md from the schema tables (store), the command tree
// (commands.CommandReference), the exit codes, the event ids (events) and
// the metrics (metrics), and the man pages docs/man/poolctl.1 and
// docs/man/poolctl-host.8 from the same data, in roff written here.
//
// Regenerate with 'go generate ./internal/docgen' after changing any of
// them; TestDocsUpToDate fails while the files in the tree differ.
package docgen

//go:generate go run ./cmd/docgen -root ../..
