package farm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/user"
	"strconv"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/poolctl/poolctl/hostapi"
)

// DefaultCommandTimeout is a command's deadline when the request's context
// has none.
const DefaultCommandTimeout = 60 * time.Second

// commandLeaseMargin is how long a command and its result outlive the
// command's deadline, so that a late answer can still be read and nothing
// is left behind for long by a tool that died.
const commandLeaseMargin = 30 * time.Second

// transport sends control-API requests to one host through etcd.
type transport struct {
	cli   *clientv3.Client
	keyOf func(string) string
	host  string
	from  string
}

// NewTransport returns a RoundTripper that sends each request to the host
// named host as a Command in farm/cmd/HOST/ID and waits (watching, not
// polling) for its Result until the request's context ends. A host whose
// farm/alive key is missing, before the command is sent or while it is
// awaited, fails the request at once with an error wrapping ErrHostGone.
func NewTransport(cli *clientv3.Client, keyOf func(string) string, host string) http.RoundTripper {
	return &transport{cli: cli, keyOf: keyOf, host: host, from: whoAmI()}
}

// whoAmI is "user@machine" for the host's log.
func whoAmI() string {
	name := strconv.Itoa(os.Getuid())
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	machine, _ := os.Hostname()
	return name + "@" + machine
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	cmd, err := t.command(req)
	if req.Body != nil {
		req.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("encode command: %w", err)
	}
	ttl := int64(time.Until(cmd.Deadline)/time.Second) + 1 + int64(commandLeaseMargin/time.Second)
	lease, err := t.cli.Grant(ctx, ttl)
	if err != nil {
		return nil, fmt.Errorf("send command to host %s: %w", t.host, err)
	}
	// The lease takes the command and its result with it: revoked once
	// the answer is read, or expiring after the deadline.
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_, _ = t.cli.Revoke(rctx, lease.ID)
	}()
	alive := AliveKey(t.keyOf, t.host)
	resp, err := t.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(alive), ">", 0)).
		Then(clientv3.OpPut(CommandKey(t.keyOf, t.host, cmd.ID), string(data), clientv3.WithLease(lease.ID))).
		Commit()
	if err != nil {
		return nil, fmt.Errorf("send command to host %s: %w", t.host, err)
	}
	if !resp.Succeeded {
		return nil, t.gone()
	}
	res, err := t.await(ctx, cmd.ID, resp.Header.Revision)
	if err != nil {
		return nil, err
	}
	return response(req, res), nil
}

func (t *transport) gone() error {
	return fmt.Errorf("%w: host %s has no %s (not running, or it lost etcd for longer than its lease)", ErrHostGone, t.host, AliveKey(t.keyOf, t.host))
}

// command makes the Command of req.
func (t *transport) command(req *http.Request) (*Command, error) {
	deadline, ok := req.Context().Deadline()
	if !ok {
		deadline = time.Now().Add(DefaultCommandTimeout)
	}
	cmd := &Command{ID: NewID(), Method: req.Method, Path: req.URL.RequestURI(), Header: map[string]string{}, Deadline: deadline, From: t.from}
	for _, h := range []string{hostapi.VersionHeader, "Content-Type"} {
		if v := req.Header.Get(h); v != "" {
			cmd.Header[h] = v
		}
	}
	if req.Body != nil {
		body, err := io.ReadAll(io.LimitReader(req.Body, maxCommandBody+1))
		if err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		if len(body) > maxCommandBody {
			return nil, fmt.Errorf("request body for host %s is larger than %d bytes, more than a command through etcd may carry", t.host, maxCommandBody)
		}
		if len(body) > 0 {
			cmd.Body = body
		}
	}
	return cmd, nil
}

// await watches for the command's result, and for the host's liveness key
// going away, from the revision after the command was written.
func (t *transport) await(ctx context.Context, id string, rev int64) (*Result, error) {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	resKey := ResultKey(t.keyOf, t.host, id)
	results := t.cli.Watch(wctx, resKey, clientv3.WithRev(rev+1))
	alive := t.cli.Watch(wctx, AliveKey(t.keyOf, t.host), clientv3.WithRev(rev+1), clientv3.WithFilterPut())
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("host %s did not answer %s: %w", t.host, id, ctx.Err())
		case wr, ok := <-results:
			if !ok || wr.Err() != nil {
				// The watch ended (compaction, leader loss): read once,
				// then watch again.
				if res, err := t.readResult(ctx, resKey); err != nil || res != nil {
					return res, err
				}
				if ctx.Err() != nil {
					continue
				}
				results = t.cli.Watch(wctx, resKey)
				continue
			}
			for _, ev := range wr.Events {
				if ev.Type == clientv3.EventTypePut {
					return decodeResult(t.host, ev.Kv.Value)
				}
			}
		case wr, ok := <-alive:
			if !ok {
				alive = nil
				continue
			}
			for _, ev := range wr.Events {
				if ev.Type == clientv3.EventTypeDelete {
					// It may have answered just before it went.
					if res, err := t.readResult(ctx, resKey); err == nil && res != nil {
						return res, nil
					}
					return nil, t.gone()
				}
			}
		}
	}
}

func (t *transport) readResult(ctx context.Context, key string) (*Result, error) {
	resp, err := t.cli.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read the answer of host %s: %w", t.host, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, nil
	}
	return decodeResult(t.host, resp.Kvs[0].Value)
}

func decodeResult(host string, data []byte) (*Result, error) {
	var res Result
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("decode the answer of host %s: %w", host, err)
	}
	if res.Status < 100 || res.Status > 999 {
		return nil, fmt.Errorf("decode the answer of host %s: status %d", host, res.Status)
	}
	return &res, nil
}

func response(req *http.Request, res *Result) *http.Response {
	h := http.Header{}
	for k, v := range res.Header {
		h.Set(k, v)
	}
	return &http.Response{
		Status:        strconv.Itoa(res.Status) + " " + http.StatusText(res.Status),
		StatusCode:    res.Status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(res.Body)),
		ContentLength: int64(len(res.Body)),
		Request:       req,
	}
}
