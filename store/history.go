package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// HistoryPrefix starts the names of history snapshots, as in IIS:
// CFGHISTORY_0000000001.
const HistoryPrefix = "CFGHISTORY_"

// HistoryDir is where snapshots go: configHistory.path, else "history"
// beside the store.
func (s *Store) HistoryDir(c *Config) string {
	if p, _ := c.historySetting("path").(string); p != "" {
		return p
	}
	return filepath.Join(s.Dir(), "history")
}

// snapshot keeps old, the file about to be replaced, as the next history
// snapshot, and drops the oldest beyond maxHistories. c is the
// configuration being written: its configHistory settings apply.
func (s *Store) snapshot(old []byte, c *Config) error {
	if on, _ := c.historySetting("enabled").(bool); !on {
		return nil
	}
	dir := s.HistoryDir(c)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create history directory: %w", err)
	}
	seqs, err := historySeqs(dir)
	if err != nil {
		return err
	}
	next := uint64(1)
	if len(seqs) > 0 {
		next = seqs[len(seqs)-1] + 1
	}
	name := filepath.Join(dir, historyName(next)+".toml")
	// A hard link costs no copy: the rename that follows leaves the old
	// inode to the snapshot alone. Across file systems, write a copy.
	if err := os.Link(s.Path, name); err != nil {
		if err := writeAtomic(name, old, 0o644); err != nil {
			return fmt.Errorf("write history snapshot: %w", err)
		}
	}
	keep, _ := c.historySetting("maxHistories").(uint64)
	seqs = append(seqs, next)
	for len(seqs) > int(keep) {
		if err := os.Remove(filepath.Join(dir, historyName(seqs[0])+".toml")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("prune history: %w", err)
		}
		seqs = seqs[1:]
	}
	return nil
}

func historyName(seq uint64) string { return fmt.Sprintf("%s%010d", HistoryPrefix, seq) }

// historySeqs returns the snapshot numbers in dir, ascending.
func historySeqs(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read history directory: %w", err)
	}
	var seqs []uint64
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".toml")
		if !strings.HasPrefix(name, HistoryPrefix) || name == e.Name() {
			continue
		}
		if n, err := strconv.ParseUint(name[len(HistoryPrefix):], 10, 64); err == nil {
			seqs = append(seqs, n)
		}
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	return seqs, nil
}
