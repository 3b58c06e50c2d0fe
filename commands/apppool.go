package commands

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/poolctl/poolctl/runstate"

	"github.com/poolctl/poolctl/commands/params"
	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/store"
)

func apppoolObject() *object {
	return &object{
		name:    "apppool",
		aliases: []string{"apppools"},
		summary: "An application pool: workers with their own identity, limits and recycling",
		schema:  func() []propHelp { return schemaHelp(store.PoolSchema, "") },
		actions: map[string]action{
			"list": {listApppool, "poolctl list apppool [NAME] [/property:value ...] [/text:ATTR | /text:* | /json | /config[:*] [/encrypt]] [/showSecrets]",
				"List pools, filtered by any property; /config prints the pool as a TOML template"},
			"add": {addApppool, "poolctl add apppool /name:NAME [/copyFrom:POOL] [/property:value ...] | /in[:FILE] [/name:NAME]",
				"Create a pool, optionally copying another's settings or from a template on stdin or in FILE"},
			"set": {setApppool, "poolctl set apppool NAME [/name:NEWNAME] [/property:value | /-property | /+coll.[k='v'] | /-coll.[k='v'] ...]",
				"Change, reset or rename a pool; a rename moves its applications along"},
			"delete": {deleteApppool, "poolctl delete apppool NAME [/reassignTo:POOL]",
				"Delete a pool; refused while applications use it, unless they are moved to another pool"},
			"start":   {startApppool, "poolctl start apppool NAME", "Start a pool and keep it started across host restarts (on a store in etcd: on every host of the farm)"},
			"stop":    {stopApppool, "poolctl stop apppool NAME", "Stop a pool and keep it stopped across host restarts (on a store in etcd: on every host of the farm)"},
			"recycle": {recycleApppool, "poolctl recycle apppool NAME [/host:NAME] [/maxUnavailable:N]", "Replace every worker of the pool, new ones first, without dropping a request; on a store in etcd, on every live host of the farm, rolling: N hosts at a time (default 1)"},
		},
	}
}

// poolObj is what the apppool view reads; rt is the host's view, nil when
// no host runs.
type poolObj struct {
	cfg  *store.Config
	pool *store.AppPool
	apps []string
	rt   *hostapi.PoolStatus
}

func apppoolView() *view {
	props := []prop{
		{key: "name", aliases: []string{"apppool.name"}, header: "NAME", get: func(o any) any { return o.(*poolObj).pool.Name }},
		{key: "state", header: "STATE", get: func(o any) any { return poolState(o.(*poolObj)) }},
		{key: "reason", get: func(o any) any {
			if rt := o.(*poolObj).rt; rt != nil {
				return rt.Reason
			}
			return ""
		}},
	}
	headers := map[string]string{"startMode": "START MODE", "processModel.identityType": "IDENTITY"}
	var inherit inheritedValues
	for _, p := range schemaProps(store.PoolSchema, func(o any, f *store.Field) any {
		// Config.Effective, with what the pool inherits found once for
		// every pool.
		po := o.(*poolObj)
		if v, ok := f.Get(&po.pool.PoolSettings); ok {
			return v
		}
		return inherit.value(po.cfg, f)
	}) {
		p.header = headers[p.key]
		props = append(props, p)
	}
	props = append(props,
		prop{key: "workers", header: "WORKERS", get: func(o any) any {
			// Running workers, from the host; "-" when no host runs.
			if rt := o.(*poolObj).rt; rt != nil {
				return strconv.Itoa(rt.WorkerTotal())
			}
			return "-"
		}, json: func(o any) any {
			if rt := o.(*poolObj).rt; rt != nil {
				return rt.WorkerTotal()
			}
			return nil
		}},
		prop{key: "applications", header: "APPLICATIONS", get: func(o any) any { return o.(*poolObj).apps }},
	)
	return newView("APPPOOL", props)
}

// inheritedValues memoises, for one configuration, the value a pool that
// does not set a property inherits (from applicationPoolDefaults or the
// schema): the same for every pool, and at many pools most of the table.
// Only values nobody can change through the result are kept: text,
// numbers, booleans and spans, not lists.
type inheritedValues struct {
	cfg  *store.Config
	vals map[*store.Field]any
}

func (in *inheritedValues) value(cfg *store.Config, f *store.Field) any {
	if in.cfg != cfg {
		in.cfg, in.vals = cfg, map[*store.Field]any{}
	}
	if v, ok := in.vals[f]; ok {
		return v
	}
	v, _ := cfg.Effective(nil, f)
	switch f.Kind {
	case store.KindString, store.KindBool, store.KindUint, store.KindEnum, store.KindFlags, store.KindTimeSpan:
		in.vals[f] = v
	}
	return v
}

// poolState is the runtime state when the host runs, else the desired
// state the store holds.
func poolState(o *poolObj) string {
	if o.cfg.LegacyIsolation() {
		return runstate.PoolInactive.String() // pools do not run in Legacy isolation mode
	}
	if o.rt != nil {
		return o.rt.State.String()
	}
	return desiredState(o.cfg, o.pool).String()
}

// desiredState is the state the store asks for: Started when autoStart.
func desiredState(c *store.Config, p *store.AppPool) runstate.Pool {
	if c.PoolAutoStart(p) {
		return runstate.PoolStarted
	}
	return runstate.PoolStopped
}

// poolRows are the rows of the pools: every pool, or with hasID the one
// named id (case-insensitively) alone, so that a question about one pool
// does no work for the others.
func poolRows(cfg *store.Config, v *view, rt map[string]*hostapi.PoolStatus, id string, hasID bool) []row {
	apps := map[string][]string{}
	for _, s := range cfg.Sites {
		for _, a := range s.Applications {
			k := strings.ToLower(a.ApplicationPool)
			apps[k] = append(apps[k], store.AppName(s.Name, a.Path))
		}
	}
	n := len(cfg.ApplicationPools)
	if hasID {
		n = 1
	}
	rows := make([]row, 0, n)
	objs := make([]poolObj, 0, n)
	for i := range cfg.ApplicationPools {
		p := &cfg.ApplicationPools[i]
		if hasID && !strings.EqualFold(p.Name, id) {
			continue
		}
		key := strings.ToLower(p.Name)
		objs = append(objs, poolObj{cfg: cfg, pool: p, apps: apps[key], rt: rt[key]})
		rows = append(rows, row{v: v, id: p.Name, obj: &objs[len(objs)-1]})
	}
	return rows
}

func listApppool(e *env, a params.Args) error {
	a, show, err := e.takeShowSecrets(a)
	if err != nil {
		return err
	}
	a, tmpl, err := takeTemplateOutput(a)
	if err != nil {
		return err
	}
	if tmpl.encrypt && !show {
		// An encrypted template is how a pool moves with its secrets.
		if err := e.maySeeSecrets("/encrypt"); err != nil {
			return err
		}
		show = true
	}
	tmpl.showSecrets = show
	v := apppoolView()
	l, err := parseList(a, "apppool.name", v)
	if err != nil {
		return err
	}
	l.mode.showSecrets = show
	id, hasID, filters := l.id, l.hasID, l.filters
	cfg, err := e.load()
	if err != nil {
		return err
	}
	var rt map[string]*hostapi.PoolStatus
	if !tmpl.on {
		if rt, err = poolRuntime(e, poolFilterID(id, hasID), len(cfg.ApplicationPools)); err != nil {
			return err
		}
	}
	var rows []row
	for _, r := range poolRows(cfg, v, rt, id, hasID) {
		if r.match(filters) {
			rows = append(rows, r)
		}
	}
	if hasID && len(rows) == 0 && cfg.Pool(id) == nil {
		return store.NotFound("apppool", id)
	}
	sortRows(rows)
	if tmpl.on {
		return e.writeTemplate(cfg, rows, tmpl)
	}
	if err := render(e.stdout, v, rows, l.mode); err != nil {
		return err
	}
	if !l.mode.json && !l.mode.hasText {
		legacyNote(e.stdout, cfg)
	}
	return nil
}

func addApppool(e *env, a params.Args) error {
	rest, in := a.Take("in")
	if len(in) > 0 {
		return addFromTemplate(e, rest, in[0])
	}
	name, err := requireID(a, "apppool", "name")
	if err != nil {
		return err
	}
	rest, _ = rest.Take("name")
	rest, from := rest.Take("copyFrom")
	if err := store.ValidateNewPoolName(name); err != nil {
		return err
	}
	_, err = e.update(func(c *store.Config) error {
		if p := c.Pool(name); p != nil {
			return store.Exists("apppool", name, p.Name)
		}
		pool := store.AppPool{Name: name}
		if len(from) > 0 {
			src := c.Pool(from[0].Value)
			if src == nil {
				return store.PropertyError("apppool", name, "copyFrom", fmt.Errorf("%w: pool %q does not exist", store.ErrNotFound, from[0].Value))
			}
			copied := store.AppPool{Name: name, PoolSettings: c.Clone().Pool(src.Name).PoolSettings}
			pool = copied
		}
		if err := poolTarget(c, &pool).apply(rest.Params); err != nil {
			return err
		}
		c.ApplicationPools = append(c.ApplicationPools, pool)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "APPPOOL object %q added\n", name)
	return nil
}

// poolTarget is the editing target for one pool's own settings.
func poolTarget(c *store.Config, p *store.AppPool) *target {
	return &target{
		object: "apppool", id: p.Name, schema: store.PoolSchema, root: &p.PoolSettings,
		inherited: func(f *store.Field) any {
			v, _ := c.Effective(&store.AppPool{}, f)
			return v
		},
		removed: store.RemovedPoolProperties,
	}
}

func setApppool(e *env, a params.Args) error {
	id, rest, err := idAndRest(a, "apppool", "apppool.name")
	if err != nil {
		return err
	}
	rest, rename := rest.Take("name")
	if len(rest.Params) == 0 && len(rename) == 0 {
		return usagef("set apppool %q: nothing to set; give /property:value (see 'poolctl set apppool /?')", id)
	}
	final := id
	changed, err := e.update(func(c *store.Config) error {
		p := c.Pool(id)
		if p == nil {
			return store.NotFound("apppool", id)
		}
		final = p.Name
		if len(rename) > 0 {
			if err := c.RenamePool(p, rename[len(rename)-1].Value); err != nil {
				return err
			}
			final = p.Name
		}
		return poolTarget(c, p).apply(rest.Params)
	})
	if err != nil {
		return err
	}
	reportChange(e, "APPPOOL", final, changed)
	return nil
}

func reportChange(e *env, kind, id string, changed bool) {
	if changed {
		fmt.Fprintf(e.stdout, "%s object %q changed\n", kind, id)
	} else {
		fmt.Fprintf(e.stdout, "%s object %q unchanged (it already has these values)\n", kind, id)
	}
}

func deleteApppool(e *env, a params.Args) error {
	id, rest, err := idAndRest(a, "apppool", "apppool.name")
	if err != nil {
		return err
	}
	rest, reassign := rest.Take("reassignTo")
	if err := noParams(rest, "delete", "apppool"); err != nil {
		return err
	}
	name := id
	_, err = e.update(func(c *store.Config) error {
		p := c.Pool(id)
		if p == nil {
			return store.NotFound("apppool", id)
		}
		name = p.Name
		var to []string
		if len(reassign) > 0 {
			to = []string{reassign[0].Value}
		}
		return c.DeletePool(p, to...)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "APPPOOL object %q deleted\n", name)
	return nil
}

func startApppool(e *env, a params.Args) error { return setPoolRunning(e, a, "start", true) }
func stopApppool(e *env, a params.Args) error  { return setPoolRunning(e, a, "stop", false) }

// setPoolRunning starts or stops a pool and persists the desired state in
// autoStart, so a stop sticks across host restarts (appcmd's did not).
// With a host running, the host does both (an operator-group member needs
// no write access to the store) and judges "already there" on the runtime
// state: a pool stopped by rapid-fail protection keeps autoStart but can
// be started. With no host, the tool writes the store itself and judges on
// the stored state.
func setPoolRunning(e *env, a params.Args, verb string, run bool) error {
	id, rest, err := idAndRest(a, "apppool", "apppool.name")
	if err != nil {
		return err
	}
	if err := noParams(rest, verb, "apppool"); err != nil {
		return err
	}
	if e.onFarm() {
		return setPoolRunningFarm(e, id, verb, run) // farm_pool.go: the store, then every host
	}
	call := e.host.StartPool
	if !run {
		call = e.host.StopPool
	}
	st, up, err := hostAct(e, func(ctx context.Context) (hostapi.PoolStatus, error) { return call(ctx, id) })
	switch {
	case up && err == nil:
		if st.State == runstate.PoolInactive {
			fmt.Fprintf(e.stdout, "%q %s %s\n", st.Name, pastTense(verb), legacySaved)
			return nil
		}
		fmt.Fprintf(e.stdout, "%q successfully %s.\n", st.Name, pastTense(verb))
		return nil
	case errors.Is(err, store.ErrNotFound):
		return store.NotFound("apppool", id)
	case errors.Is(err, ErrAlreadyInState), errors.Is(err, hostapi.ErrForbidden):
		return err
	case err != nil:
		return fmt.Errorf("%s apppool %q: %w", verb, id, err)
	}
	return setPoolRunningOffline(e, id, verb, run)
}

// legacySaved ends the message of a start or stop in Legacy isolation mode.
const legacySaved = "(saved; pools are inactive in Legacy isolation mode, so it takes effect when isolationMode is WorkerProcess again)"

// setPoolRunningOffline is start and stop with no host running: the tool
// writes autoStart into the store, which the caller must be allowed to.
func setPoolRunningOffline(e *env, id, verb string, run bool) error {
	ctx, cancel := e.withTimeout()
	defer cancel()
	name, legacy, err := persistAutoStart(ctx, e, id, verb, run, "")
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%s apppool %q: poolctl host is not running, so the tool writes the store itself: %w", verb, id, err)
	}
	if err != nil {
		return err
	}
	if legacy {
		fmt.Fprintf(e.stdout, "%q %s %s\n", name, pastTense(verb), legacySaved)
		return nil
	}
	fmt.Fprintf(e.stdout, "%q %s (saved; poolctl host is not running, so it takes effect when the host starts)\n", name, pastTense(verb))
	return nil
}

// persistAutoStart writes the pool's autoStart for a start (run) or stop
// and returns the pool's name and whether the store is in Legacy isolation
// mode. A pool already so is an error wrapping ErrAlreadyInState, whose
// message ends with where (" in the store the farm follows", or nothing).
func persistAutoStart(ctx context.Context, e *env, id, verb string, run bool, where string) (name string, legacy bool, err error) {
	name = id
	_, err = e.store.Update(ctx, func(c *store.Config) error {
		p := c.Pool(id)
		if p == nil {
			return store.NotFound("apppool", id)
		}
		name = p.Name
		legacy = c.LegacyIsolation()
		if c.PoolAutoStart(p) == run {
			return fmt.Errorf("%w: apppool %q is already %s%s", ErrAlreadyInState, p.Name, pastTense(verb), where)
		}
		c.SetPoolAutoStart(p, run)
		return nil
	})
	return name, legacy, err
}

func pastTense(verb string) string {
	if verb == "stop" {
		return "stopped"
	}
	return verb + "ed"
}

// recycleApppool asks the host to recycle the pool. The store, when the
// caller may read it, says first what is wrong with the request (no such
// pool, Legacy isolation mode); an operator who may not read it (the host
// writes it private to root) is answered by the host alone.
func recycleApppool(e *env, a params.Args) error {
	id, only, maxUnavailable, err := recyclePoolFarmArgs(e, a) // farm_pool.go
	if err != nil {
		return err
	}
	cfg, err := e.load()
	switch {
	case errors.Is(err, fs.ErrPermission):
	case err != nil:
		return err
	default:
		p := cfg.Pool(id)
		if p == nil {
			return store.NotFound("apppool", id)
		}
		if cfg.LegacyIsolation() {
			return fmt.Errorf("recycle apppool %q: %w: %s", p.Name, hostapi.ErrConflict, legacyInactive)
		}
		id = p.Name
	}
	if e.onFarm() {
		return recycleFarm(e, id, only, maxUnavailable) // farm_pool.go: rolling, host by host
	}
	ctx, cancel := e.withTimeout()
	defer cancel()
	res, err := e.host.Recycle(ctx, id)
	var re *hostapi.RemoteError
	switch {
	case errors.As(err, &re) && errors.Is(err, store.ErrNotFound):
		return store.NotFound("apppool", id)
	case errors.As(err, &re):
		return fmt.Errorf("recycle apppool %q: %w", id, err)
	case err != nil:
		return err
	}
	fmt.Fprintf(e.stdout, "%q successfully recycled (workers %s -> %s)\n", res.Pool, pids(res.OldWorkers), pids(res.NewWorkers))
	return nil
}

func pids(ps []int) string {
	if len(ps) == 0 {
		return "none"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ",")
}

// hostRunning reports whether a host answers on the control socket.
func hostRunning(e *env) bool {
	ctx, cancel := e.withTimeout()
	defer cancel()
	return e.host.Ping(ctx) == nil
}

// renamePool is the store's rename cascade (store.Config.RenamePool), kept
// under its old name for commands/idioms.go.
func renamePool(c *store.Config, p *store.AppPool, newName string) error {
	return c.RenamePool(p, newName)
}
