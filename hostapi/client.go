package hostapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"

	"github.com/poolctl/poolctl/store"
)

// Version is the control API version this build speaks; it travels in the
// VersionHeader both ways.
const Version = "1"

// VersionHeader carries Version on requests and responses.
const VersionHeader = "Poolctl-Api-Version"

// Sentinel errors of the client.
var (
	// ErrHostDown means no host answers on the socket.
	ErrHostDown = errors.New("poolctl host is not running")
	// ErrForbidden means the host refused the caller (SO_PEERCRED check).
	ErrForbidden = errors.New("permission denied by poolctl host")
	// ErrRemote is a failure the host reported; the message says which.
	ErrRemote = errors.New("poolctl host reported an error")
)

// ErrorBody is the JSON body of every non-2xx response: a machine code and
// a message for people.
type ErrorBody struct {
	Code  string `json:"code"`
	Error string `json:"error"`
}

// DefaultSocket is the control socket path when neither --socket nor
// $POOLCTL_SOCKET says: /run/poolctl/host.sock for root,
// $XDG_RUNTIME_DIR/poolctl/host.sock otherwise, and without XDG_RUNTIME_DIR
// FallbackDir()/poolctl/host.sock (checked before use: CheckSocketPath).
func DefaultSocket() string {
	if os.Geteuid() == 0 {
		return "/run/poolctl/host.sock"
	}
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		dir = FallbackDir()
	}
	return filepath.Join(dir, "poolctl", "host.sock")
}

// Client calls the host over its unix socket.
type Client struct {
	Socket string
	// DownHint, when set, ends the message of a HostDownError: how to
	// start the host, in the caller's words.
	DownHint string
	http     *http.Client
}

// NewClient returns a client for the socket at path.
func NewClient(socket string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			// A socket in the shared temporary directory is only
			// trusted inside a private directory of ours.
			if err := CheckSocketPath(socket); err != nil {
				return nil, err
			}
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		DisableCompression: true,
	}
	return &Client{Socket: socket, http: &http.Client{Transport: tr}}
}

// NewClientTransport returns a client that sends its requests through rt
// rather than a unix socket: internal/farm's transport through etcd, to
// the host named name (which messages use as the Socket).
func NewClientTransport(name string, rt http.RoundTripper) *Client {
	return &Client{Socket: name, http: &http.Client{Transport: rt}}
}

// HostDownError explains ErrHostDown with the socket; Hint (the client's
// DownHint) says how to fix it.
type HostDownError struct {
	Socket string
	Err    error
	Hint   string
}

func (e *HostDownError) Error() string {
	s := fmt.Sprintf("poolctl host is not running (no answer on %s)", e.Socket)
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

// Unwrap lets errors.Is match ErrHostDown and the dial error.
func (e *HostDownError) Unwrap() []error { return []error{ErrHostDown, e.Err} }

// Do sends a request with an optional JSON body and decodes a JSON reply
// into out (when non-nil).
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	resp, err := c.send(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := readReply(resp, maxReply)
	if err != nil {
		return fmt.Errorf("read host reply: %w", err)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decode host reply: %w", err)
		}
	}
	return nil
}

// maxReply bounds the reply Do reads.
const maxReply = 16 << 20

// readReply reads the body of resp, at most limit bytes: into one buffer
// of its Content-Length when the host sent one (a host sends it since
// 2026-12; an older one streams), else growing one as it comes.
func readReply(resp *http.Response, limit int64) ([]byte, error) {
	body := io.LimitReader(resp.Body, limit)
	if n := resp.ContentLength; n > 0 && n <= limit {
		data := make([]byte, n)
		if _, err := io.ReadFull(body, data); err != nil {
			return nil, err
		}
		return data, nil
	}
	return io.ReadAll(body)
}

// send sends a request with an optional JSON body and returns the reply
// when its status is 2xx (the caller closes its body), else the host's
// error.
func (c *Client) send(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://poolctl"+path, rd)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set(VersionHeader, Version)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var unsafe *UnsafeDirError
		if errors.As(err, &unsafe) {
			return nil, unsafe
		}
		if isDown(err) {
			return nil, &HostDownError{Socket: c.Socket, Err: err, Hint: c.DownHint}
		}
		if errors.Is(err, fs.ErrPermission) {
			// The socket's mode kept the caller out: say so, rather than
			// let it pass for a file permission problem of the store.
			return nil, fmt.Errorf("%w: cannot open the control socket %s (%v): use sudo, or join the socket's group (the host's --operator-group)", ErrForbidden, c.Socket, err)
		}
		return nil, fmt.Errorf("call poolctl host: %w", err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read host reply: %w", err)
	}
	var eb ErrorBody
	_ = json.Unmarshal(data, &eb)
	if eb.Error == "" {
		eb.Error = resp.Status
	}
	if resp.StatusCode == http.StatusForbidden {
		return nil, fmt.Errorf("%w: %s", ErrForbidden, eb.Error)
	}
	return nil, &RemoteError{Status: resp.StatusCode, Body: eb}
}

// RemoteError is a failure the host reported with its code and message.
type RemoteError struct {
	Status int
	Body   ErrorBody
}

func (e *RemoteError) Error() string { return e.Body.Error }

// Unwrap matches ErrRemote and the sentinel of the reply's code, so the
// tool maps a host's "not found" to the same exit code as its own.
func (e *RemoteError) Unwrap() []error {
	errs := []error{ErrRemote}
	switch e.Body.Code {
	case CodeNotFound:
		errs = append(errs, store.ErrNotFound)
	case CodeInvalid:
		errs = append(errs, store.ErrInvalid)
	case CodeAlready:
		errs = append(errs, ErrAlreadyInState)
	case CodeConflict:
		errs = append(errs, ErrConflict)
	case CodeRecycleFail:
		errs = append(errs, ErrRecycleFailed)
	case CodeUnavailable:
		errs = append(errs, ErrUnavailable)
	}
	return errs
}

func isDown(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ENOTDIR) || errors.Is(err, os.ErrNotExist)
}
