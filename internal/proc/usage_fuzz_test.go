package proc

import (
	"bufio"
	"encoding/binary"
	"strconv"
	"strings"
	"testing"
)

// refParseStat is the former parser of stat lines (strings.Fields), kept as
// the reference of FuzzParseStat.
func refParseStat(line string) (stat, bool) {
	if strings.TrimSpace(line) == "" {
		return stat{}, false
	}
	end := strings.LastIndexByte(line, ')')
	if end < 0 {
		return stat{}, false
	}
	fields := strings.Fields(line[end+1:])
	if len(fields) < 20 || len(fields[0]) != 1 {
		return stat{}, false
	}
	st := stat{state: fields[0][0]}
	for _, f := range []struct {
		field int
		dst   *int
	}{{4, &st.ppid}, {5, &st.pgrp}, {20, &st.threads}} {
		v, err := strconv.Atoi(fields[f.field-3])
		if err != nil {
			return stat{}, false
		}
		*f.dst = v
	}
	for _, f := range []struct {
		field int
		dst   *uint64
	}{{14, &st.utime}, {15, &st.stime}, {22, &st.starttime}} {
		v, err := strconv.ParseUint(fields[f.field-3], 10, 64)
		if err != nil {
			return stat{}, false
		}
		*f.dst = v
	}
	return st, true
}

// FuzzParseStat: the in-place parser of stat lines agrees with the former
// one on every input (same fields, same verdict).
func FuzzParseStat(f *testing.F) {
	for _, comm := range []string{"(sleeper)", "(a b)", "(x) S 9 9 (y)", "())", "((()"} {
		f.Add("4242 " + comm + statTail)
	}
	f.Add("")
	f.Add("4242 (sleeper) S 1 4242")
	f.Add("4242 (sleeper) S x" + strings.Repeat(" 1", 30))
	f.Add("4242 (sleeper)\tS\v1\f2\r3" + strings.Repeat("\n1", 30))
	f.Add("4242 (sleeper) S 1 2 3 4 5 6 7 8 9 10 -11 12 13 14 15 16 17 18 19 20")
	f.Fuzz(func(t *testing.T, line string) {
		got, err := parseStat(line)
		want, ok := refParseStat(line)
		if (err == nil) != ok || got != want {
			t.Fatalf("parseStat(%q) = %+v, %v; the former parser: %+v, ok %v", line, got, err, want, ok)
		}
	})
}

// refParseStatus is the former parser of status files (bufio.Scanner), kept
// as the reference of FuzzParseStatus.
func refParseStatus(text string) (statusMem, bool) {
	if strings.TrimSpace(text) == "" {
		return statusMem{}, false
	}
	var m statusMem
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *uint64
		switch key {
		case "RssAnon":
			dst = &m.rssAnonKB
		case "VmSwap":
			dst = &m.swapKB
		case "VmSize":
			dst = &m.vmSizeKB
		default:
			continue
		}
		num, unit, _ := strings.Cut(strings.TrimSpace(value), " ")
		if unit != "kB" {
			return statusMem{}, false
		}
		v, err := strconv.ParseUint(num, 10, 64)
		if err != nil {
			return statusMem{}, false
		}
		*dst = v
	}
	return m, sc.Err() == nil
}

// FuzzParseStatus: the parser of status files agrees with the former one
// (bufio.Scanner, which also drops a CR before the newline) on inputs
// without carriage returns, the kernel's format; and never panics.
func FuzzParseStatus(f *testing.F) {
	f.Add("Name:\tsleeper\nState:\tS (sleeping)\nVmPeak:\t  9000 kB\nVmSize:\t  8000 kB\nRssAnon:\t  3000 kB\nRssFile:\t  500 kB\nVmSwap:\t  20 kB\nThreads:\t5\n")
	f.Add("Name:\tsleeper\nState:\tZ (zombie)\nThreads:\t1\n")
	f.Add("VmSize:\t8000 MB\n")
	f.Add("RssAnon:\tlots kB\n")
	f.Add("RssAnon:\t1 kB")
	f.Add("\n\n")
	f.Fuzz(func(t *testing.T, text string) {
		got, err := parseStatus(text)
		if strings.ContainsRune(text, '\r') || len(text) > 64<<10 {
			return // the Scanner's CR handling and line limit are not the kernel's format
		}
		want, ok := refParseStatus(text)
		if (err == nil) != ok || got != want {
			t.Fatalf("parseStatus(%q) = %+v, %v; the former parser: %+v, ok %v", text, got, err, want, ok)
		}
	})
}

// FuzzDirentPid: reading a directory record never reads past its buffer,
// and a well-formed record of a decimal name gives that pid.
func FuzzDirentPid(f *testing.F) {
	rec := func(name string) []byte {
		n := (19 + len(name) + 1 + 7) &^ 7
		b := make([]byte, n)
		binary.NativeEndian.PutUint16(b[16:], uint16(n))
		copy(b[19:], name)
		return b
	}
	f.Add(rec("1234"), "1234")
	f.Add(rec("self"), "self")
	f.Add(rec(""), "")
	f.Add([]byte{1, 2, 3}, "")
	f.Fuzz(func(t *testing.T, b []byte, name string) {
		pid, reclen, ok := direntPid(b)
		if reclen > len(b) || (ok && pid <= 0) {
			t.Fatalf("direntPid(%x) = %d, %d, %v", b, pid, reclen, ok)
		}
		if len(name) > 0 && len(name) < 10 && !strings.ContainsRune(name, 0) {
			pid, _, ok := direntPid(rec(name))
			want, err := strconv.Atoi(name)
			isNum := err == nil && want > 0 && strings.Trim(name, "0123456789") == ""
			if ok != isNum || (ok && pid != want) {
				t.Fatalf("direntPid of %q = %d, %v", name, pid, ok)
			}
		}
	})
}
