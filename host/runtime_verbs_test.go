package host

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/poolctl/poolctl/apppool"
	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/runstate"
	"github.com/poolctl/poolctl/store"
)

// verbHost is a Host with a store, a manager that runs the store's pools
// (OnDemand: no worker starts) and a pipeline whose applies block until
// the test releases them, as a whole-store apply of many pools takes long.
type verbHost struct {
	*Host
	applies chan struct{} // one value per apply that began
	release chan struct{} // one value lets one apply load, reconcile and end
}

// finishApply waits for an apply to begin and lets it end.
func (v *verbHost) finishApply(t *testing.T, ctx context.Context) {
	t.Helper()
	select {
	case <-v.applies:
	case <-ctx.Done():
		t.Fatal("no apply began")
	}
	select {
	case v.release <- struct{}{}:
	case <-ctx.Done():
		t.Fatal("the apply did not take its release")
	}
}

func newVerbHost(t *testing.T, pools ...string) *verbHost {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	dir := t.TempDir()
	st := store.Open(filepath.Join(dir, "applicationHost.toml"))
	if _, err := st.Update(ctx, func(c *store.Config) error {
		for _, name := range pools {
			c.ApplicationPools = append(c.ApplicationPools, store.AppPool{Name: name})
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	cfg, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	m := apppool.NewManager(apppool.Launcher{LogDir: filepath.Join(dir, "logs"), NoKernelMemory: true}, nil, logger)
	if err := m.Reconcile(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown(context.Background()) })
	v := &verbHost{applies: make(chan struct{}, 64), release: make(chan struct{})}
	v.Host = &Host{store: st, manager: m, logger: logger}
	v.pipe = newPipeline(func(ctx context.Context) (string, error) {
		v.applies <- struct{}{}
		select {
		case <-v.release:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		cfg, err := st.Load(ctx)
		if err != nil {
			return "", err
		}
		return cfg.StoreVersion(), m.Reconcile(ctx, cfg)
	})
	done := make(chan struct{})
	go func() { defer close(done); v.pipe.run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return v
}

// autoStart is the pool's autoStart as the store holds it.
func (v *verbHost) autoStart(t *testing.T, name string) bool {
	t.Helper()
	cfg, err := v.store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Pool(name)
	if p == nil {
		t.Fatalf("no pool %s in the store", name)
	}
	return cfg.PoolAutoStart(p)
}

// TestStopStartDoNotWaitForWholeApply: stop and start of a pool the host
// runs persist autoStart and change the pool's state without an apply of
// the whole store (at 500 pools the largest part of a stop): with no
// apply able to end, each answers, the store holds the new autoStart and
// the pool is in the new state, with its settings; a later apply (the
// host's watch of the store asks for one) agrees with it. (Before, each
// waited for a whole apply and here ran into its deadline.)
func TestStopStartDoNotWaitForWholeApply(t *testing.T) {
	v := newVerbHost(t, "A", "B")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // a failure guard only
	defer cancel()

	st, err := v.setPoolRunning(ctx, "a", false)
	if err != nil {
		t.Fatalf("stop with the applies blocked: %v", err)
	}
	if st.Name != "A" || st.State != runstate.PoolStopped {
		t.Errorf("stop answered %s %s, want A Stopped", st.Name, st.State)
	}
	if v.autoStart(t, "A") {
		t.Error("autoStart of A still true in the store after the stop")
	}
	if got := v.poolState("A"); got != runstate.PoolStopped {
		t.Errorf("A is %s after the stop, want Stopped", got)
	}
	if _, err := v.setPoolRunning(ctx, "A", false); !errors.Is(err, hostapi.ErrAlreadyInState) {
		t.Errorf("second stop: %v, want already stopped", err)
	}

	st, err = v.setPoolRunning(ctx, "A", true)
	if err != nil {
		t.Fatalf("start with the applies blocked: %v", err)
	}
	if st.State != runstate.PoolStarted || !v.autoStart(t, "A") {
		t.Errorf("start answered %s, autoStart %v; want Started, true", st.State, v.autoStart(t, "A"))
	}
	if got := v.poolState("B"); got != runstate.PoolStarted {
		t.Errorf("B is %s, want Started (untouched)", got)
	}
	waitSettings(t, ctx, v, "A", true) // handed over with the start, before any apply
	v.pipe.request()                   // as the watch of the store does
	v.finishApply(t, ctx)
	if got := v.poolState("A"); got != runstate.PoolStarted {
		t.Errorf("A is %s after the apply, want Started", got)
	}
	if s := v.manager.Pool("A").Settings(); !s.AutoStart {
		t.Error("A's settings say autoStart false after the start and an apply")
	}
}

// waitSettings waits until the pool's loop took settings with autoStart.
func waitSettings(t *testing.T, ctx context.Context, v *verbHost, pool string, autoStart bool) {
	t.Helper()
	for v.manager.Pool(pool).Settings().AutoStart != autoStart {
		select {
		case <-ctx.Done():
			t.Fatalf("%s's settings never said autoStart %v", pool, autoStart)
		case <-time.After(time.Millisecond):
		}
	}
}

// TestVerbWaitsForRunningApply: a stop that comes while an apply runs
// writes the store only after that apply ended, so an apply of the store
// as it was before the stop never comes after it (it would hand the pool
// the old autoStart). pipeline.exclusive serialises them.
func TestVerbWaitsForRunningApply(t *testing.T) {
	v := newVerbHost(t, "A")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v.pipe.request()
	select {
	case <-v.applies: // it runs, blocked
	case <-ctx.Done():
		t.Fatal("no apply began")
	}
	done := make(chan error, 1)
	go func() {
		_, err := v.setPoolRunning(ctx, "A", false)
		done <- err
	}()
	// The verb waits: nothing is written while the apply runs. Checked
	// again once the apply ended, when the verb may go on.
	select {
	case err := <-done:
		t.Fatalf("the stop answered (%v) while an apply ran", err)
	case <-time.After(50 * time.Millisecond):
	}
	if !v.autoStart(t, "A") {
		t.Fatal("the stop wrote the store while an apply ran")
	}
	select {
	case v.release <- struct{}{}:
	case <-ctx.Done():
		t.Fatal("the apply did not take its release")
	}
	if err := <-done; err != nil {
		t.Fatalf("stop after the apply: %v", err)
	}
	if v.autoStart(t, "A") || v.poolState("A") != runstate.PoolStopped {
		t.Errorf("after the stop: autoStart %v, state %s; want false, Stopped", v.autoStart(t, "A"), v.poolState("A"))
	}
}

// TestStopOfPoolNotRunYetWaitsForApply: a pool the store has but the host
// does not run yet (added since the last apply) is stopped after the apply
// that creates it, as before.
func TestStopOfPoolNotRunYetWaitsForApply(t *testing.T) {
	v := newVerbHost(t, "A")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := v.store.Update(ctx, func(c *store.Config) error {
		c.ApplicationPools = append(c.ApplicationPools, store.AppPool{Name: "New"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	type result struct {
		state runstate.Pool
		err   error
	}
	res := make(chan result, 1)
	go func() {
		st, err := v.setPoolRunning(ctx, "New", false)
		res <- result{st.State, err}
	}()
	v.finishApply(t, ctx)
	r := <-res
	if r.err != nil || r.state != runstate.PoolStopped {
		t.Fatalf("stop of New: %s, %v; want Stopped", r.state, r.err)
	}
	if v.autoStart(t, "New") {
		t.Error("autoStart of New still true")
	}
	if got := v.poolState("New"); got != runstate.PoolStopped {
		t.Errorf("New is %s, want Stopped", got)
	}
}
