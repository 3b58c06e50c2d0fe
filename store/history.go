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

// pendingSnapshot is the file about to be replaced, kept aside under a
// hidden name in the history directory until the write of the new file
// succeeds: only then does it become a snapshot, and only then are old
// snapshots pruned. A failed write discards it, so history never changes
// for a write that did not happen.
type pendingSnapshot struct {
	dir  string
	tmp  string
	keep uint64
	perm filePerm
}

// pendingName is the hidden name of the pending snapshot; writers hold the
// lock, so one name will do, and list and prune ignore it.
const pendingName = ".pending-snapshot.toml"

// prepareSnapshot keeps old, the store about to be replaced, aside. c is the
// configuration being written: its configHistory settings apply. It returns
// nil when history is disabled. The store's mode was narrowed before, so the
// hard link, which shares the store's inode and mode, is private too.
func (s *Store) prepareSnapshot(old []byte, c *Config, p filePerm) (*pendingSnapshot, error) {
	if on, _ := c.historySetting("enabled").(bool); !on {
		return nil, nil
	}
	dir := s.HistoryDir(c)
	if err := mkdirPerm(dir, p, dir == filepath.Join(s.Dir(), "history")); err != nil {
		return nil, fmt.Errorf("create history directory: %w", err)
	}
	keep, _ := c.historySetting("maxHistories").(uint64)
	ps := &pendingSnapshot{dir: dir, tmp: filepath.Join(dir, pendingName), keep: keep, perm: p}
	if err := os.Remove(ps.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("remove stale pending snapshot: %w", err)
	}
	// A hard link costs no copy: the rename that follows leaves the old
	// inode to the snapshot alone. Across file systems, write a copy.
	if err := os.Link(s.Path, ps.tmp); err != nil {
		if err := writeAtomic(ps.tmp, old, p); err != nil {
			return nil, fmt.Errorf("write history snapshot: %w", err)
		}
	}
	return ps, nil
}

// discard drops the pending snapshot after a failed write.
func (ps *pendingSnapshot) discard() {
	if ps != nil {
		_ = os.Remove(ps.tmp)
	}
}

// commit makes the pending snapshot the next one and drops the oldest
// beyond maxHistories.
func (ps *pendingSnapshot) commit() error {
	if ps == nil {
		return nil
	}
	seqs, err := historySeqs(ps.dir)
	if err != nil {
		ps.discard()
		return err
	}
	next := uint64(1)
	if len(seqs) > 0 {
		next = seqs[len(seqs)-1] + 1
	}
	if err := os.Rename(ps.tmp, filepath.Join(ps.dir, historyName(next)+".toml")); err != nil {
		ps.discard()
		return fmt.Errorf("keep history snapshot: %w", err)
	}
	seqs = append(seqs, next)
	for len(seqs) > int(ps.keep) {
		if err := os.Remove(filepath.Join(ps.dir, historyName(seqs[0])+".toml")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("prune history: %w", err)
		}
		seqs = seqs[1:]
	}
	// Snapshots an older poolctl left readable by others become private.
	return narrowDir(ps.dir, ps.perm, false, isHistoryFile)
}

// isHistoryFile reports a snapshot's file name.
func isHistoryFile(name string) bool {
	return strings.HasPrefix(name, HistoryPrefix) && strings.HasSuffix(name, ".toml")
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
