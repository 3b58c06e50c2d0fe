package etcdstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/poolctl/poolctl/store"
)

// The store's bytes are laid out in etcd as:
//
//	PREFIX/config          the manifest: the document as a sequence of text
//	                       parts (version, configHistory, defaults, host) and
//	                       references to pools and sites, in file order
//	PREFIX/apppools/NN     bucket NN (00..3f) of pools: JSON object from the
//	                       pool's lower-case name to its [[applicationPools]] text
//	PREFIX/sites/NN        bucket NN (00..0f) of sites, the same way
//
// Joining the parts gives back the file's bytes exactly. A pool lives in
// the bucket its name hashes to, so a change to one pool rewrites one
// bucket, and two writers of different pools conflict only when their pools
// share a bucket. A write touches at most poolBuckets+siteBuckets+1 keys,
// under etcd's default limit of 128 operations per transaction.
const (
	poolBuckets = 64
	siteBuckets = 16
)

// part is one element of the manifest: exactly one field is set.
type part struct {
	Text string `json:"t,omitempty"`
	Pool string `json:"p,omitempty"` // the pool's foldName
	Site string `json:"s,omitempty"` // the site's foldName
}

// manifest is the value of PREFIX/config.
type manifest struct {
	Format int    `json:"format"`
	Parts  []part `json:"parts"`
}

const manifestFormat = 1

// bucket is the value of a pool or site bucket.
type bucket map[string]string

// layout is a document split into its manifest and buckets, keyed by their
// key names relative to the prefix ("apppools/0a").
type layout struct {
	manifest manifest
	buckets  map[string]bucket
}

func foldName(name string) string { return strings.ToLower(name) }

func bucketOf(kind, fold string) string {
	h := fnv.New32a()
	h.Write([]byte(fold))
	n := poolBuckets
	if kind == "sites" {
		n = siteBuckets
	}
	return fmt.Sprintf("%s/%02x", kind, h.Sum32()%uint32(n))
}

// segment is a run of the document's lines.
type segment struct {
	kind string // "", "apppools" or "sites"
	text string
}

// splitSegments cuts data at its top-level headers: each [[applicationPools]]
// and [[sites]] line starts a segment of that kind, which takes the lines up
// to the next header that is not one of its own sub-tables.
func splitSegments(data []byte) []segment {
	var segs []segment
	cur := segment{}
	start := 0
	flush := func(end int, next string) {
		if end > start || cur.kind != "" {
			cur.text = string(data[start:end])
			segs = append(segs, cur)
		}
		cur = segment{kind: next}
		start = end
	}
	for off := 0; off < len(data); {
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += off + 1
		}
		line := strings.TrimRight(string(data[off:end]), "\r\n")
		switch {
		case line == "[[applicationPools]]":
			flush(off, "apppools")
		case line == "[[sites]]":
			flush(off, "sites")
		case strings.HasPrefix(line, "["):
			own := cur.kind == "apppools" && (strings.HasPrefix(line, "[applicationPools.") || strings.HasPrefix(line, "[[applicationPools.")) ||
				cur.kind == "sites" && (strings.HasPrefix(line, "[sites.") || strings.HasPrefix(line, "[[sites."))
			if !own && cur.kind != "" {
				flush(off, "")
			}
		}
		off = end
	}
	flush(len(data), "")
	if n := len(segs); n > 0 && segs[n-1].kind == "" && segs[n-1].text == "" {
		segs = segs[:n-1]
	}
	return segs
}

// splitLayout lays data, whose configuration is c, out in parts. prev is
// the layout it replaces (nil for none): a pool or site section whose text
// differs from the one stored under its name is parsed alone to check that
// it is that object and nothing else.
func splitLayout(data []byte, c *store.Config, prev *layout) (*layout, error) {
	segs := splitSegments(data)
	l := &layout{manifest: manifest{Format: manifestFormat}, buckets: map[string]bucket{}}
	var pools, sites int
	for _, sg := range segs {
		var name string
		switch sg.kind {
		case "":
			l.manifest.Parts = append(l.manifest.Parts, part{Text: sg.text})
			continue
		case "apppools":
			if pools >= len(c.ApplicationPools) {
				return nil, layoutError("more [[applicationPools]] sections than pools")
			}
			name = c.ApplicationPools[pools].Name
			pools++
		case "sites":
			if sites >= len(c.Sites) {
				return nil, layoutError("more [[sites]] sections than sites")
			}
			name = c.Sites[sites].Name
			sites++
		}
		fold := foldName(name)
		key := bucketOf(sg.kind, fold)
		if prev == nil || prev.buckets[key][fold] != sg.text {
			if err := checkSection(sg, name); err != nil {
				return nil, err
			}
		}
		if l.buckets[key] == nil {
			l.buckets[key] = bucket{}
		}
		l.buckets[key][fold] = sg.text
		if sg.kind == "apppools" {
			l.manifest.Parts = append(l.manifest.Parts, part{Pool: fold})
		} else {
			l.manifest.Parts = append(l.manifest.Parts, part{Site: fold})
		}
	}
	if pools != len(c.ApplicationPools) || sites != len(c.Sites) {
		return nil, layoutError(fmt.Sprintf("%d [[applicationPools]] and %d [[sites]] sections for %d pools and %d sites", pools, sites, len(c.ApplicationPools), len(c.Sites)))
	}
	return l, nil
}

// checkSection parses a pool or site section alone: it must be exactly the
// named object.
func checkSection(sg segment, name string) error {
	c, err := store.Unmarshal([]byte("version = 1\n" + sg.text))
	if err != nil {
		return layoutError(fmt.Sprintf("the section of %q does not stand alone: %v", name, err))
	}
	var got []string
	for _, p := range c.ApplicationPools {
		got = append(got, p.Name)
	}
	for _, s := range c.Sites {
		got = append(got, s.Name)
	}
	if len(got) != 1 || got[0] != name {
		return layoutError(fmt.Sprintf("the section of %q holds %q", name, got))
	}
	return nil
}

func layoutError(why string) error {
	return fmt.Errorf("%w: this store cannot be laid out in etcd (%s); write each pool as a [[applicationPools]] section and each site as a [[sites]] section, as poolctl does", store.ErrInvalid, why)
}

// join gives back the document's bytes.
func (l *layout) join() ([]byte, error) {
	var b bytes.Buffer
	for _, p := range l.manifest.Parts {
		switch {
		case p.Pool != "":
			t, ok := l.buckets[bucketOf("apppools", p.Pool)][p.Pool]
			if !ok {
				return nil, fmt.Errorf("%w: the store in etcd is inconsistent: pool %q is listed but has no section", store.ErrInvalid, p.Pool)
			}
			b.WriteString(t)
		case p.Site != "":
			t, ok := l.buckets[bucketOf("sites", p.Site)][p.Site]
			if !ok {
				return nil, fmt.Errorf("%w: the store in etcd is inconsistent: site %q is listed but has no section", store.ErrInvalid, p.Site)
			}
			b.WriteString(t)
		default:
			b.WriteString(p.Text)
		}
	}
	return b.Bytes(), nil
}

// encodeManifest and encodeBucket give the values stored; JSON sorts the
// bucket's keys, so equal buckets have equal bytes.
func encodeManifest(m manifest) ([]byte, error) { return json.Marshal(m) }
func encodeBucket(b bucket) ([]byte, error)     { return json.Marshal(b) }

func decodeManifest(data []byte) (manifest, error) {
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("%w: the store's manifest in etcd is not valid: %w", store.ErrInvalid, err)
	}
	if m.Format != manifestFormat {
		return m, fmt.Errorf("%w: the store in etcd has layout format %d; this poolctl reads %d (upgrade poolctl)", store.ErrInvalid, m.Format, manifestFormat)
	}
	return m, nil
}

func decodeBucket(key string, data []byte) (bucket, error) {
	var b bucket
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("%w: the store's bucket %s in etcd is not valid: %w", store.ErrInvalid, key, err)
	}
	return b, nil
}
