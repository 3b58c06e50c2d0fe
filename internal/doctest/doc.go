// Package doctest checks the documentation: the shell examples of README.md
// and docs/*.md that are marked runnable are extracted and run, in order,
// against a temporary store (and, where an example starts one, a real
// poolctl host on 127.0.0.1), and their output is compared with the output
// block the page shows after them; relative links must resolve; the README
// stays short.
//
// A page marks an example with an HTML comment on the line before its fence,
// which renders as nothing on GitHub:
//
//	<!-- runnable -->
//	```sh
//	poolctl add apppool /name:Shop
//	```
//	<!-- output -->
//	```text
//	APPPOOL object "Shop" added
//	```
//
// `<!-- runnable host -->` marks a block that starts a host in the
// background: the test waits for that host's control socket to answer and
// its first apply to end before the next block. In an output block a line
// that is only "…" stands for any number of lines, and "…" inside a line for
// any text. The examples of one page run in one bash (set -e), so variables,
// exports and the working directory carry from block to block.
package doctest
