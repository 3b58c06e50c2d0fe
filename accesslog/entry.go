package accesslog

import "time"

// Entry is one request as the front saw it. The W3C field each member fills
// is named in its comment; members marked "JSON only" appear only in JSON
// lines.
type Entry struct {
	Time          time.Time     // when the response was completed; zero means the time of Write
	ServerIP      string        // s-ip (local address of the connection, no port)
	ServerPort    int           // s-port
	Method        string        // cs-method
	URIStem       string        // cs-uri-stem (path, not unescaped further)
	URIQuery      string        // cs-uri-query (without '?'; empty -> '-')
	Username      string        // cs-username (from Basic auth if any, else empty)
	ClientIP      string        // c-ip (no port)
	UserAgent     string        // cs(User-Agent)
	Referer       string        // cs(Referer)
	Status        int           // sc-status
	SubStatus     int           // sc-substatus
	Win32Status   int           // sc-win32-status
	TimeTaken     time.Duration // time-taken (W3C: milliseconds)
	BytesSent     int64         // JSON only
	BytesReceived int64         // JSON only
	Site          string        // JSON only
	Pool          string        // JSON only
	Reason        string        // JSON only: the front's refusal reason (QueueFull...), empty otherwise
}
