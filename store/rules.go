package store

import (
	"fmt"
	"strings"
)

// The domain rules of the configuration: what else changes when a pool is
// renamed, deleted, started or stopped, so that the configuration stays
// consistent whoever edits it (the tool, or the host for its runtime
// verbs). They change c in place and leave the wording of hints to the
// caller.

// PoolAutoStart reports whether the pool starts with the host: its
// effective autoStart.
func (c *Config) PoolAutoStart(p *AppPool) bool {
	v, _ := c.Effective(p, PoolSchema.Field("autoStart"))
	return v == true
}

// SetPoolAutoStart makes the pool's effective autoStart run, keeping the
// store minimal: the pool's own value is removed when the inherited one
// (applicationPoolDefaults, else the schema default) already says run.
func (c *Config) SetPoolAutoStart(p *AppPool, run bool) {
	f := PoolSchema.Field("autoStart")
	f.Clear(&p.PoolSettings)
	if inherited, _ := c.Effective(p, f); inherited != run {
		f.Set(&p.PoolSettings, run)
	}
}

// AutoStart reports whether the site serves when the host starts: its
// serverAutoStart, true unless set false.
func (s *Site) AutoStart() bool {
	return s.ServerAutoStart == nil || *s.ServerAutoStart
}

// SetAutoStart makes the site's serverAutoStart run, keeping the store
// minimal: true is the default and is not written.
func (s *Site) SetAutoStart(run bool) {
	if run {
		s.ServerAutoStart = nil
		return
	}
	s.ServerAutoStart = &run
}

// RenamePool renames p to newName and moves every application that uses
// it along (application pools are compared case-insensitively). newName
// must be a valid new pool name not taken by another pool; a change of
// case only is allowed.
func (c *Config) RenamePool(p *AppPool, newName string) error {
	if err := ValidateNewPoolName(newName); err != nil {
		return err
	}
	if other := c.Pool(newName); other != nil && other != p {
		return Exists("apppool", newName, other.Name)
	}
	c.moveApps(p.Name, newName)
	p.Name = newName
	return nil
}

// AssignPool checks that the pool an application names exists and gives
// the application the pool's own spelling. appID ("Site/path") names the
// application in the error: ReasonUnknownPool, wrapping ErrNotFound.
func (c *Config) AssignPool(app *Application, appID string) error {
	p := c.Pool(app.ApplicationPool)
	if p == nil {
		return &ObjectError{Object: "app", ID: appID, Property: "applicationPool", Err: ErrNotFound,
			Msg: fmt.Sprintf("pool %q does not exist", app.ApplicationPool), Reason: ReasonUnknownPool, Value: app.ApplicationPool}
	}
	app.ApplicationPool = p.Name
	return nil
}

// PoolInUseError refuses to delete a pool that applications use. Apps are
// their identifiers ("Site/path"); the tool's HintFunc says how to move
// them.
type PoolInUseError struct {
	Pool string
	Apps []string
}

func (e *PoolInUseError) Error() string {
	s := fmt.Sprintf("apppool %q: in use by %d application(s): %s", e.Pool, len(e.Apps), strings.Join(e.Apps, ", "))
	if h := hintOf(e, ""); h != "" {
		s += "; " + h
	}
	return s
}

// Unwrap returns ErrInUse.
func (e *PoolInUseError) Unwrap() error { return ErrInUse }

// DeletePool removes p. A pool that applications use is refused with a
// *PoolInUseError, unless reassignTo is given (only its first value
// counts) and names another existing pool: then its applications move
// there first. reassignTo is not looked at when no application uses p.
func (c *Config) DeletePool(p *AppPool, reassignTo ...string) error {
	if users := c.AppsUsing(p.Name); len(users) > 0 {
		if len(reassignTo) == 0 {
			return &PoolInUseError{Pool: p.Name, Apps: users}
		}
		dest := c.Pool(reassignTo[0])
		if dest == nil || dest == p {
			return PropertyError("apppool", p.Name, "reassignTo", fmt.Errorf("%w: %q is not another existing pool", ErrNotFound, reassignTo[0]))
		}
		c.moveApps(p.Name, dest.Name)
	}
	for i := range c.ApplicationPools {
		if &c.ApplicationPools[i] == p {
			c.ApplicationPools = append(c.ApplicationPools[:i], c.ApplicationPools[i+1:]...)
			break
		}
	}
	return nil
}

// moveApps points every application of pool from at pool to.
func (c *Config) moveApps(from, to string) {
	for si := range c.Sites {
		for ai := range c.Sites[si].Applications {
			if app := &c.Sites[si].Applications[ai]; strings.EqualFold(app.ApplicationPool, from) {
				app.ApplicationPool = to
			}
		}
	}
}
