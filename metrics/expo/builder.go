package expo

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Builder gathers the samples of one scrape and writes them in the text
// format, families sorted by name and series by label values (the order
// client_golang used, so the output is stable from scrape to scrape).
type Builder struct {
	families map[string]*family
}

type family struct {
	desc   *Desc
	series []series
}

type series struct {
	labels []label // sorted by name
	key    string  // label values in that order, for sorting
	value  float64
	// histogram: count, sum and cumulative buckets; summary: count, sum and
	// quantiles.
	count   uint64
	sum     float64
	buckets []bound
}

type label struct{ name, value string }

type bound struct {
	at    float64 // upper bound or quantile
	value float64
}

// NewBuilder returns an empty builder.
func NewBuilder() *Builder { return &Builder{families: map[string]*family{}} }

// Add records a counter or gauge sample; values are in the order of
// d.Labels.
func (b *Builder) Add(d *Desc, v float64, values ...string) {
	s := b.newSeries(d, values)
	s.value = v
	b.append(d, s)
}

// AddHistogram records a histogram: cumulative counts per upper bound
// (+Inf is added from count).
func (b *Builder) AddHistogram(d *Desc, count uint64, sum float64, buckets map[float64]uint64, values ...string) {
	s := b.newSeries(d, values)
	s.count, s.sum = count, sum
	for at, n := range buckets {
		if !math.IsInf(at, +1) {
			s.buckets = append(s.buckets, bound{at, float64(n)})
		}
	}
	slices.SortFunc(s.buckets, func(x, y bound) int { return compareFloat(x.at, y.at) })
	b.append(d, s)
}

// AddSummary records a summary: the value at each quantile.
func (b *Builder) AddSummary(d *Desc, count uint64, sum float64, quantiles map[float64]float64, values ...string) {
	s := b.newSeries(d, values)
	s.count, s.sum = count, sum
	for q, v := range quantiles {
		s.buckets = append(s.buckets, bound{q, v})
	}
	slices.SortFunc(s.buckets, func(x, y bound) int { return compareFloat(x.at, y.at) })
	b.append(d, s)
}

func compareFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func (b *Builder) newSeries(d *Desc, values []string) series {
	if len(values) != len(d.Labels) {
		panic(fmt.Sprintf("expo: %s has %d labels, got %d values", d.Name, len(d.Labels), len(values)))
	}
	s := series{labels: make([]label, len(values))}
	for i, v := range values {
		s.labels[i] = label{d.Labels[i], v}
	}
	slices.SortFunc(s.labels, func(x, y label) int { return strings.Compare(x.name, y.name) })
	var key strings.Builder
	for _, l := range s.labels {
		key.WriteString(l.value)
		key.WriteByte(0xff) // not in UTF-8: separates values unambiguously
	}
	s.key = key.String()
	return s
}

func (b *Builder) append(d *Desc, s series) {
	f := b.families[d.Name]
	if f == nil {
		f = &family{desc: d}
		b.families[d.Name] = f
	}
	f.series = append(f.series, s)
}

// WriteTo writes every family that has samples.
func (b *Builder) WriteTo(w io.Writer) (int64, error) {
	names := make([]string, 0, len(b.families))
	for n := range b.families {
		names = append(names, n)
	}
	slices.Sort(names)
	cw := &countWriter{w: w}
	bw := bufio.NewWriterSize(cw, 32<<10)
	var buf []byte
	for _, n := range names {
		f := b.families[n]
		slices.SortStableFunc(f.series, func(x, y series) int { return strings.Compare(x.key, y.key) })
		buf = appendFamily(buf[:0], f)
		if _, err := bw.Write(buf); err != nil {
			return cw.n, fmt.Errorf("write metrics: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("write metrics: %w", err)
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func appendFamily(buf []byte, f *family) []byte {
	d := f.desc
	buf = append(buf, "# HELP "...)
	buf = append(buf, d.Name...)
	buf = append(buf, ' ')
	buf = appendEscaped(buf, d.Help, false)
	buf = append(buf, "\n# TYPE "...)
	buf = append(buf, d.Name...)
	buf = append(buf, ' ')
	buf = append(buf, d.Kind.String()...)
	buf = append(buf, '\n')
	for _, s := range f.series {
		switch d.Kind {
		case Histogram:
			for _, bk := range s.buckets {
				buf = appendSample(buf, d.Name, "_bucket", s.labels, "le", bk.at, bk.value)
			}
			buf = appendSample(buf, d.Name, "_bucket", s.labels, "le", math.Inf(+1), float64(s.count))
			buf = appendSample(buf, d.Name, "_sum", s.labels, "", 0, s.sum)
			buf = appendSample(buf, d.Name, "_count", s.labels, "", 0, float64(s.count))
		case Summary:
			for _, q := range s.buckets {
				buf = appendSample(buf, d.Name, "", s.labels, "quantile", q.at, q.value)
			}
			buf = appendSample(buf, d.Name, "_sum", s.labels, "", 0, s.sum)
			buf = appendSample(buf, d.Name, "_count", s.labels, "", 0, float64(s.count))
		default:
			buf = appendSample(buf, d.Name, "", s.labels, "", 0, s.value)
		}
	}
	return buf
}

// appendSample appends one line: name+suffix, the labels and, when extra is
// set, the label extra="at" last, then the value.
func appendSample(buf []byte, name, suffix string, labels []label, extra string, at, v float64) []byte {
	buf = append(buf, name...)
	buf = append(buf, suffix...)
	if len(labels) > 0 || extra != "" {
		buf = append(buf, '{')
		for i, l := range labels {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, l.name...)
			buf = append(buf, `="`...)
			buf = appendEscaped(buf, l.value, true)
			buf = append(buf, '"')
		}
		if extra != "" {
			if len(labels) > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, extra...)
			buf = append(buf, `="`...)
			buf = appendFloat(buf, at)
			buf = append(buf, '"')
		}
		buf = append(buf, '}')
	}
	buf = append(buf, ' ')
	buf = appendFloat(buf, v)
	return append(buf, '\n')
}

// appendFloat formats v as the text format does: shortest representation,
// +Inf, -Inf, NaN.
func appendFloat(buf []byte, v float64) []byte {
	switch {
	case math.IsInf(v, +1):
		return append(buf, "+Inf"...)
	case math.IsInf(v, -1):
		return append(buf, "-Inf"...)
	case math.IsNaN(v):
		return append(buf, "NaN"...)
	}
	return strconv.AppendFloat(buf, v, 'g', -1, 64)
}

// appendEscaped escapes a help text (backslash, newline) or a label value
// (backslash, newline, double quote).
func appendEscaped(buf []byte, s string, quote bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			buf = append(buf, `\\`...)
		case c == '\n':
			buf = append(buf, `\n`...)
		case c == '"' && quote:
			buf = append(buf, `\"`...)
		default:
			buf = append(buf, c)
		}
	}
	return buf
}
