package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// maxAliveRead bounds what the alive check reads of a reply.
const maxAliveRead = 8 << 10

// CheckAlive is the default health check: it connects to addr, sends
// `GET / HTTP/1.1` (Connection: close) and passes as soon as the worker
// reacts in any way: a response with any status, any bytes at all (an app
// that does not speak HTTP), or closing or resetting the connection. It
// fails when the connection cannot be made (nothing listens) and when
// nothing comes back before ctx is done, with an error wrapping ctx's error
// (context.DeadlineExceeded for the pingResponseTime): the kernel completes
// the handshake of a stopped or hung process, but only a running process
// answers. It reads at most the response head (bounded) and then closes.
func CheckAlive(ctx context.Context, addr string) error {
	return checkAlive(ctx, endpointOf(addr))
}

// checkAlive is CheckAlive of an endpoint.
func checkAlive(ctx context.Context, ep endpoint) error {
	addr := ep.label
	conn, err := ep.dial(ctx)
	if err != nil {
		return fmt.Errorf("check %s: %w", addr, err)
	}
	defer conn.Close()
	// ctx bounds the whole exchange: its end unblocks a pending read.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	req := "GET / HTTP/1.1\r\nHost: " + ep.host + "\r\nUser-Agent: poolctl-health-check\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		if reacted(err) {
			return nil
		}
		return aliveError(ctx, addr, err)
	}
	buf := make([]byte, 1024)
	got := 0
	for got < maxAliveRead {
		n, err := conn.Read(buf)
		got += n
		if n > 0 && bytes.Contains(buf[:n], []byte("\r\n\r\n")) {
			return nil // a response head (or enough of an answer)
		}
		if err != nil {
			if got > 0 || reacted(err) {
				return nil
			}
			return aliveError(ctx, addr, err)
		}
	}
	return nil
}

// reacted reports whether a read or write error shows that the worker
// itself closed the connection (an orderly close or a reset), which only a
// running process does.
func reacted(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// aliveError is CheckAlive's error when the worker did not react.
func aliveError(ctx context.Context, addr string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("check %s: no reply to GET /: %w", addr, ctx.Err())
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("check %s: no reply to GET /: %w", addr, context.DeadlineExceeded)
	}
	return fmt.Errorf("check %s: GET /: %w", addr, err)
}
