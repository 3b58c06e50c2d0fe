package expo

// Kind is a metric family's type.
type Kind uint8

// The metric types of the text format.
const (
	Counter Kind = iota
	Gauge
	Histogram
	Summary
)

// String returns the type's name in a # TYPE line.
func (k Kind) String() string {
	switch k {
	case Counter:
		return "counter"
	case Gauge:
		return "gauge"
	case Histogram:
		return "histogram"
	case Summary:
		return "summary"
	}
	return "untyped"
}

// Desc describes one metric family: its name, help text, label names and
// type.
type Desc struct {
	Name   string
	Help   string
	Labels []string
	Kind   Kind
}

// NewDesc returns the descriptor of a family. Name, help and labels are
// literals at the call sites in package metrics: the documentation
// generator reads them from the source.
func NewDesc(name, help string, labels []string, kind Kind) *Desc {
	return &Desc{Name: name, Help: help, Labels: labels, Kind: kind}
}
