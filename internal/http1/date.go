package http1

import (
	"net/http"
	"sync/atomic"
	"time"
)

// dateLine is the Date field of one second.
type dateLine struct {
	sec  int64
	line string // "Date: ...\r\n"
}

// dateCache holds the Date field of the current second.
var dateCache atomic.Pointer[dateLine]

// currentDate returns the Date field line for now, formatted once a
// second.
func currentDate() string {
	now := time.Now()
	if d := dateCache.Load(); d != nil && d.sec == now.Unix() {
		return d.line
	}
	d := &dateLine{sec: now.Unix(), line: "Date: " + now.UTC().Format(http.TimeFormat) + "\r\n"}
	dateCache.Store(d)
	return d.line
}
