package expo

import (
	"math"
	"strings"
	"testing"
)

// TestWriteFormat: escaping, label order, series order, special values,
// histograms and summaries in the text format.
func TestWriteFormat(t *testing.T) {
	c := NewDesc("t_total", "help with \\ and\nnewline", []string{"z", "a"}, Counter)
	g := NewDesc("t_gauge", "g", nil, Gauge)
	h := NewDesc("t_seconds", "h", []string{"p"}, Histogram)
	s := NewDesc("t_summary", "s", nil, Summary)
	b := NewBuilder()
	b.Add(c, 2, "z2", `q"\`+"\n")
	b.Add(c, 1, "z1", "b")
	b.Add(g, math.Inf(+1))
	b.AddHistogram(h, 3, 0.5, map[float64]uint64{0.1: 1, 1: 2, math.Inf(+1): 3}, "x")
	b.AddSummary(s, 4, 2.5, map[float64]float64{0.5: 0.25, 0: 0})
	var out strings.Builder
	if _, err := b.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	want := `# HELP t_gauge g
# TYPE t_gauge gauge
t_gauge +Inf
# HELP t_seconds h
# TYPE t_seconds histogram
t_seconds_bucket{p="x",le="0.1"} 1
t_seconds_bucket{p="x",le="1"} 2
t_seconds_bucket{p="x",le="+Inf"} 3
t_seconds_sum{p="x"} 0.5
t_seconds_count{p="x"} 3
# HELP t_summary s
# TYPE t_summary summary
t_summary{quantile="0"} 0
t_summary{quantile="0.5"} 0.25
t_summary_sum 2.5
t_summary_count 4
# HELP t_total help with \\ and\nnewline
# TYPE t_total counter
t_total{a="b",z="z1"} 1
t_total{a="q\"\\\n",z="z2"} 2
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestAddWrongLabelCount: a sample with the wrong number of label values
// is a programming error.
func TestAddWrongLabelCount(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	NewBuilder().Add(NewDesc("x", "x", []string{"a"}, Gauge), 1)
}

// TestCollectProcess: on Linux every process_ family is read from /proc.
func TestCollectProcess(t *testing.T) {
	b := NewBuilder()
	CollectProcess(b)
	for _, d := range []*Desc{procCPU, procMaxFDs, procOpenFDs, procRSS, procStart, procVirt, procVirtMax} {
		if f := b.families[d.Name]; f == nil || len(f.series) != 1 {
			t.Errorf("%s missing", d.Name)
		}
	}
	if v := b.families[procRSS.Name].series[0].value; v <= 0 {
		t.Errorf("resident memory %v", v)
	}
}
