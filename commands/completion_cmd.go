package commands

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/poolctl/poolctl/store"
)

// maxPathCandidates bounds the directory entries one path completion offers.
const maxPathCandidates = 500

// completeCommand is the hidden 'poolctl __complete WORD...' the shell
// scripts call on every TAB: it prints the candidates for the last word,
// one a line. It never fails, never writes to stderr and never creates or
// changes a file: the store is read without its lock and without the
// first-use creation that Load does.
func completeCommand() *cli.Command {
	return &cli.Command{
		Name:            "__complete",
		Hidden:          true,
		HideHelp:        true,
		HideHelpCommand: true,
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			words := c.Args().Slice()
			path := configFromWords(words, c.String("config"))
			cands := newStoreCompleter(path).complete(words)
			w := bufio.NewWriter(c.App.Writer)
			for _, s := range cands {
				if !strings.ContainsAny(s, "\n\r") {
					w.WriteString(s)
					w.WriteByte('\n')
				}
			}
			_ = w.Flush()
			return nil
		},
	}
}

// configFromWords is the store the completed command line names with
// --config (or -c) before its verb, else def, else the default store.
func configFromWords(words []string, def string) string {
	path := def
	for i := 0; i < len(words)-1 && strings.HasPrefix(words[i], "-") && words[i] != "-"; i++ {
		name, val, hasVal := strings.Cut(strings.TrimLeft(words[i], "-"), "=")
		if !flagTakesValue(name) {
			continue
		}
		if !hasVal {
			i++
			if i >= len(words)-1 {
				break
			}
			val = words[i]
		}
		if name == "config" || name == "c" {
			path = val
		}
	}
	if strings.TrimSpace(path) == "" {
		return store.DefaultPath()
	}
	return path
}

// newStoreCompleter completes from the store at path, read at most once and
// only when a name is needed; an unreadable or undecodable store gives no
// names.
func newStoreCompleter(path string) *completer {
	load := sync.OnceValue(func() *store.Config {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		cfg, err := store.Unmarshal(data)
		if err != nil {
			return nil
		}
		return cfg
	})
	return &completer{
		cfg: load,
		backups: func() []string {
			cfg := load()
			if cfg == nil {
				cfg = &store.Config{}
			}
			all, err := store.Open(path).Backups(cfg)
			if err != nil {
				return nil
			}
			names := make([]string, len(all))
			for i, b := range all {
				names[i] = b.Name
			}
			return names
		},
		paths: completePath,
	}
}

// completePath lists the entries of prefix's directory whose names start
// with its last element; directories end in '/'. Hidden entries are listed
// only when the last element starts with '.'. "~/" stands for $HOME.
func completePath(prefix string, dirsOnly bool) []string {
	dir, base := filepath.Split(prefix)
	read := dir
	if rest, ok := strings.CutPrefix(dir, "~/"); ok {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil
		}
		read = filepath.Join(home, rest)
	}
	if read == "" {
		read = "."
	}
	f, err := os.Open(read)
	if err != nil {
		return nil
	}
	defer f.Close()
	entries, err := f.ReadDir(maxPathCandidates * 4)
	if err != nil && len(entries) == 0 {
		return nil
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, base) || (strings.HasPrefix(name, ".") && !strings.HasPrefix(base, ".")) {
			continue
		}
		isDir := e.IsDir()
		if e.Type()&os.ModeSymlink != 0 {
			if fi, err := os.Stat(filepath.Join(read, name)); err == nil {
				isDir = fi.IsDir()
			}
		}
		switch {
		case isDir:
			out = append(out, dir+name+"/")
		case !dirsOnly:
			out = append(out, dir+name)
		}
		if len(out) == maxPathCandidates {
			break
		}
	}
	return sortedFold(out)
}

// completionCommand is 'poolctl completion bash|zsh|fish': the script that
// makes the shell complete poolctl through 'poolctl __complete'.
func completionCommand() *cli.Command {
	return &cli.Command{
		Name:            "completion",
		Usage:           "Print the shell completion script for bash, zsh or fish",
		UsageText:       "poolctl completion bash|zsh|fish",
		HideHelp:        true,
		HideHelpCommand: true,
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			shells := strings.Join(completionShells, ", ")
			if c.NArg() == 1 && isHelpToken(c.Args().First()) {
				_, err := c.App.Writer.Write([]byte("Usage: poolctl completion bash|zsh|fish\n\nPrints the completion script for the shell; see docs/production.md, Installing completion, for where to install it.\n"))
				if err != nil {
					return err
				}
				return errHelpShown
			}
			if c.NArg() != 1 {
				return usagef("completion takes one shell: %s", shells)
			}
			script, ok := completionScripts[strings.ToLower(c.Args().First())]
			if !ok {
				return usagef("no completion for shell %q: the shells are %s", c.Args().First(), shells)
			}
			_, err := c.App.Writer.Write([]byte(script))
			return err
		},
	}
}
