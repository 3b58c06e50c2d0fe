package farm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/poolctl/poolctl/hostapi"
)

// maxConcurrentCommands bounds the commands a host runs at once; more wait.
const maxConcurrentCommands = 8

// Serve answers the commands sent to the host named name until ctx ends:
// it watches farm/cmd/NAME/ from the store's revision when it starts
// (older commands are ignored, as are those past their deadline), runs
// each allowed command through h (the control API's handler) as a farm
// operator (hostapi.WithFarmOperator) with the command's deadline, and
// writes the Result under the command's lease. A command for a route that
// is not allowed is answered 403. Serve outlives etcd outages: the watch
// resumes where it was.
func Serve(ctx context.Context, cli *clientv3.Client, keyOf func(string) string, name string, h http.Handler, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &server{cli: cli, keyOf: keyOf, name: name, h: h, logger: logger, sem: make(chan struct{}, maxConcurrentCommands)}
	defer s.wg.Wait()
	rev, err := s.startRevision(ctx)
	if err != nil {
		return err
	}
	prefix := CommandPrefix(keyOf, name)
	for {
		wctx, cancel := context.WithCancel(ctx)
		ch := cli.Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1), clientv3.WithFilterDelete())
		for wr := range ch {
			if err := wr.Err(); err != nil {
				if errors.Is(err, rpctypes.ErrCompacted) {
					rev = max(rev, wr.CompactRevision-1)
				}
				break
			}
			for _, ev := range wr.Events {
				rev = max(rev, ev.Kv.ModRevision)
				if ev.Kv.Version == 1 { // created, not rewritten
					s.dispatch(ctx, ev.Kv)
				}
			}
		}
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

type server struct {
	cli    *clientv3.Client
	keyOf  func(string) string
	name   string
	h      http.Handler
	logger *slog.Logger
	sem    chan struct{}
	wg     sync.WaitGroup
}

// startRevision is the store's revision now: commands written up to it
// are older than the host's start and are not run.
func (s *server) startRevision(ctx context.Context) (int64, error) {
	for {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		resp, err := s.cli.Get(rctx, CommandPrefix(s.keyOf, s.name), clientv3.WithPrefix(), clientv3.WithCountOnly())
		cancel()
		if err == nil {
			return resp.Header.Revision, nil
		}
		if ctx.Err() != nil {
			return 0, fmt.Errorf("farm commands: %w", ctx.Err())
		}
		s.logger.Debug("farm commands: waiting for etcd", "err", err)
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, fmt.Errorf("farm commands: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// dispatch runs one command in the background, within the bound.
func (s *server) dispatch(ctx context.Context, kv *mvccpb.KeyValue) {
	id := strings.TrimPrefix(string(kv.Key), CommandPrefix(s.keyOf, s.name))
	var cmd Command
	if !validID(id) || json.Unmarshal(kv.Value, &cmd) != nil || cmd.ID != id {
		s.logger.Warn("farm command ignored: not a command", "key", string(kv.Key))
		return
	}
	if !time.Now().Before(cmd.Deadline) {
		s.logger.Debug("farm command ignored: past its deadline", "id", id, "from", cmd.From)
		return
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return
	}
	s.wg.Go(func() {
		defer func() { <-s.sem }()
		res := s.run(ctx, &cmd)
		s.answer(ctx, &cmd, kv.Lease, res)
	})
}

// run runs cmd through the handler.
func (s *server) run(ctx context.Context, cmd *Command) *Result {
	if !allowed(cmd.Method, cmd.Path) {
		s.logger.Warn("farm command refused: route not allowed through etcd", "from", cmd.From, "method", cmd.Method, "path", cmd.Path)
		return errorResult(http.StatusForbidden, hostapi.CodeForbidden, fmt.Sprintf("%s %s is not allowed through etcd: only the status, list and start/stop/recycle/reconcile routes are", cmd.Method, cmd.Path))
	}
	cctx, cancel := context.WithDeadline(hostapi.WithFarmOperator(ctx, cmd.From), cmd.Deadline)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, cmd.Method, "http://poolctl"+cmd.Path, bytes.NewReader(cmd.Body))
	if err != nil {
		return errorResult(http.StatusBadRequest, hostapi.CodeInvalid, "bad command: "+err.Error())
	}
	for k, v := range cmd.Header {
		if http.CanonicalHeaderKey(k) == hostapi.VersionHeader || http.CanonicalHeaderKey(k) == "Content-Type" {
			req.Header.Set(k, v)
		}
	}
	w := newRecorder(MaxResultBody)
	s.h.ServeHTTP(w, req)
	return w.result()
}

// answer writes the result under the command's lease.
func (s *server) answer(ctx context.Context, cmd *Command, lease int64, res *Result) {
	data, err := json.Marshal(res)
	if err != nil {
		s.logger.Error("farm command: encode result", "id", cmd.ID, "err", err)
		return
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := s.cli.Put(wctx, ResultKey(s.keyOf, s.name, cmd.ID), string(data), clientv3.WithLease(clientv3.LeaseID(lease))); err != nil {
		s.logger.Warn("farm command: the answer could not be written (the tool may have given up)", "id", cmd.ID, "from", cmd.From, "err", err)
	}
}

func errorResult(status int, code, msg string) *Result {
	body, _ := json.Marshal(hostapi.ErrorBody{Code: code, Error: msg})
	return &Result{Status: status, Header: map[string]string{"Content-Type": "application/json", hostapi.VersionHeader: hostapi.Version}, Body: body}
}
