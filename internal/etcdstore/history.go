package etcdstore

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/poolctl/poolctl/store"
)

// History snapshots and named backups are whole store files, gzip
// compressed (the gzip header holds when they were taken):
//
//	PREFIX/history/CFGHISTORY_NNNNNNNNNN   the store as it was before the
//	                                       write committed at etcd revision N
//	PREFIX/backup/NAME                     a named backup
//
// A snapshot is taken after the write commits, from the revision just
// before it, so that writers of different pools need not share a counter;
// its number is that etcd revision, so names sort in write order.

// maxBackupBytes bounds a backup or snapshot as stored, under etcd's
// default request limit of 1.5 MiB.
const maxBackupBytes = 1400 << 10

// maxFileBytes bounds the uncompressed bytes read back from one.
const maxFileBytes = 256 << 20

func pack(data []byte, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.ModTime = now
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if b.Len() > maxBackupBytes {
		return nil, fmt.Errorf("%w: the store compresses to %d bytes, over the %d bytes a snapshot or backup may take in etcd", store.ErrInvalid, b.Len(), maxBackupBytes)
	}
	return b.Bytes(), nil
}

func unpack(key string, v []byte) ([]byte, time.Time, error) {
	zr, err := gzip.NewReader(bytes.NewReader(v))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: %s in etcd is not a gzip'd store: %w", store.ErrInvalid, key, err)
	}
	data, err := io.ReadAll(io.LimitReader(zr, maxFileBytes+1))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: %s in etcd is damaged: %w", store.ErrInvalid, key, err)
	}
	if len(data) > maxFileBytes {
		return nil, time.Time{}, fmt.Errorf("%w: %s in etcd unpacks to over %d bytes", store.ErrInvalid, key, maxFileBytes)
	}
	return data, zr.ModTime, nil
}

func modTime(v []byte) time.Time {
	zr, err := gzip.NewReader(bytes.NewReader(v))
	if err != nil {
		return time.Time{}
	}
	return zr.ModTime
}

// keepHistory stores the document as it was before the write committed at
// commitRev and prunes the oldest snapshots beyond the configured number.
// old is the document read at readRev.
func (b *Backend) keepHistory(ctx context.Context, next *store.Config, old []byte, readRev, commitRev int64) error {
	enabled, keep := next.HistoryLimit()
	if enabled {
		prev := old
		if commitRev-1 > readRev {
			// Other writes came between the read and the commit: the
			// snapshot is the store just before this write.
			s, err := b.readSnapshot(ctx, commitRev-1)
			if err != nil {
				return err
			}
			if s.exists {
				if prev, err = s.layout.join(); err != nil {
					return err
				}
			}
		}
		v, err := pack(prev, time.Now())
		if err != nil {
			return err
		}
		key := b.loc.key("history/" + fmt.Sprintf("%s%010d", store.HistoryPrefix, commitRev))
		if err := b.do(ctx, func(ctx context.Context, c *clientv3.Client) error {
			_, err := c.Put(ctx, key, string(v))
			return err
		}); err != nil {
			return err
		}
	}
	return b.pruneHistory(ctx, keep)
}

// pruneHistory deletes the oldest snapshots beyond keep.
func (b *Backend) pruneHistory(ctx context.Context, keep uint64) error {
	var keys []string
	if err := b.do(ctx, func(ctx context.Context, c *clientv3.Client) error {
		resp, err := c.Get(ctx, b.loc.key("history/"), clientv3.WithPrefix(), clientv3.WithKeysOnly())
		if err != nil {
			return err
		}
		for _, kv := range resp.Kvs {
			keys = append(keys, string(kv.Key))
		}
		return nil
	}); err != nil {
		return err
	}
	sort.Strings(keys)
	for uint64(len(keys)) > keep {
		k := keys[0]
		keys = keys[1:]
		if err := b.do(ctx, func(ctx context.Context, c *clientv3.Client) error {
			_, err := c.Delete(ctx, k)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// Backups implements store.Backend.
func (b *Backend) Backups(ctx context.Context) ([]store.Backup, error) {
	var out []store.Backup
	for _, dir := range []string{"backup/", "history/"} {
		var resp *clientv3.GetResponse
		if err := b.do(ctx, func(ctx context.Context, c *clientv3.Client) error {
			var err error
			resp, err = c.Get(ctx, b.loc.key(dir), clientv3.WithPrefix())
			return err
		}); err != nil {
			return nil, err
		}
		for _, kv := range resp.Kvs {
			name := strings.TrimPrefix(string(kv.Key), b.loc.key(dir))
			history := dir == "history/"
			if strings.Contains(name, "/") || strings.HasPrefix(name, store.HistoryPrefix) != history {
				continue
			}
			out = append(out, store.Backup{Name: name, History: history, Time: modTime(kv.Value), Path: b.loc.String() + "/" + dir + name})
		}
	}
	return out, nil
}

func (b *Backend) backupKey(bk store.Backup) string {
	if bk.History {
		return b.loc.key("history/" + bk.Name)
	}
	return b.loc.key("backup/" + bk.Name)
}

// ReadBackup implements store.Backend.
func (b *Backend) ReadBackup(ctx context.Context, bk store.Backup) ([]byte, error) {
	key := b.backupKey(bk)
	var resp *clientv3.GetResponse
	if err := b.do(ctx, func(ctx context.Context, c *clientv3.Client) error {
		var err error
		resp, err = c.Get(ctx, key)
		return err
	}); err != nil {
		return nil, err
	}
	if len(resp.Kvs) == 0 {
		return nil, store.NotFound("backup", bk.Name)
	}
	data, _, err := unpack(key, resp.Kvs[0].Value)
	return data, err
}

// AddBackup implements store.Backend.
func (b *Backend) AddBackup(ctx context.Context, name string, data []byte) error {
	all, err := b.Backups(ctx)
	if err != nil {
		return err
	}
	for _, old := range all {
		if !old.History && strings.EqualFold(old.Name, name) {
			return store.Exists("backup", name, old.Name)
		}
	}
	v, err := pack(data, time.Now())
	if err != nil {
		return err
	}
	key := b.loc.key("backup/" + name)
	var resp *clientv3.TxnResponse
	if err := b.do(ctx, func(ctx context.Context, c *clientv3.Client) error {
		resp, err = c.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).Then(clientv3.OpPut(key, string(v))).Commit()
		return err
	}); err != nil {
		return err
	}
	if !resp.Succeeded {
		return store.Exists("backup", name, name)
	}
	return nil
}

// DeleteBackup implements store.Backend.
func (b *Backend) DeleteBackup(ctx context.Context, bk store.Backup) error {
	key := b.backupKey(bk)
	var resp *clientv3.DeleteResponse
	if err := b.do(ctx, func(ctx context.Context, c *clientv3.Client) error {
		var err error
		resp, err = c.Delete(ctx, key)
		return err
	}); err != nil {
		return err
	}
	if resp.Deleted == 0 {
		return store.NotFound("backup", bk.Name)
	}
	return nil
}
