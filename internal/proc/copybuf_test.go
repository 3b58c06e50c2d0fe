package proc

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
)

// maxReadRecorder is a reader that records the largest buffer it was
// given.
type maxReadRecorder struct {
	r   io.Reader
	max int
}

func (m *maxReadRecorder) Read(p []byte) (int, error) {
	m.max = max(m.max, len(p))
	return m.r.Read(p)
}

// TestSmallCopy: os/exec's io.Copy into a wrapped log writer reads through
// a small buffer and copies every byte; nil and files pass through; the
// same writer wrapped twice compares equal (one shared pipe).
func TestSmallCopy(t *testing.T) {
	var out bytes.Buffer
	w := smallCopy(&out)
	src := &maxReadRecorder{r: strings.NewReader(strings.Repeat("log line\n", 10000))}
	n, err := io.Copy(w, src)
	if err != nil || n != 90000 || out.Len() != 90000 {
		t.Fatalf("copied %d, %v; buffer holds %d", n, err, out.Len())
	}
	if src.max > copyBufferSize {
		t.Errorf("read through a %d-byte buffer, want at most %d", src.max, copyBufferSize)
	}
	if smallCopy(nil) != nil {
		t.Error("smallCopy(nil) is not nil")
	}
	if smallCopy(os.Stderr) != io.Writer(os.Stderr) {
		t.Error("smallCopy(file) is not the file")
	}
	if smallCopy(&out) != smallCopy(&out) {
		t.Error("two wraps of one writer differ: os/exec would make two pipes")
	}
}
