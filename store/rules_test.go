package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// rulesConfig has pools A, B and C; A serves two applications of site S
// (one written in another case), B one of site T, C none.
func rulesConfig() *Config {
	return &Config{
		Version:          FormatVersion,
		ApplicationPools: []AppPool{{Name: "A"}, {Name: "B"}, {Name: "C"}},
		Sites: []Site{
			{Name: "S", ID: 1, Applications: []Application{{Path: "/", ApplicationPool: "A"}, {Path: "/x", ApplicationPool: "a"}}},
			{Name: "T", ID: 2, Applications: []Application{{Path: "/", ApplicationPool: "B"}}},
		},
	}
}

func appPools(c *Config) []string {
	var out []string
	for _, s := range c.Sites {
		for _, a := range s.Applications {
			out = append(out, a.ApplicationPool)
		}
	}
	return out
}

// TestRenamePoolCascades: a rename moves every application of the pool
// (compared case-insensitively) and no other; a taken or invalid name is
// refused with nothing changed; a change of case is allowed.
func TestRenamePoolCascades(t *testing.T) {
	c := rulesConfig()
	if err := c.RenamePool(c.Pool("A"), "Z"); err != nil {
		t.Fatal(err)
	}
	if got := appPools(c); !slices.Equal(got, []string{"Z", "Z", "B"}) {
		t.Errorf("applications after rename A→Z: %v", got)
	}
	if c.Pool("A") != nil || c.Pool("Z") == nil {
		t.Errorf("pools after rename: %+v", c.ApplicationPools)
	}

	c = rulesConfig()
	err := c.RenamePool(c.Pool("A"), "b")
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), `already exists as "B"`) {
		t.Errorf("rename onto B: %v, want ErrExists naming B", err)
	}
	if err := c.RenamePool(c.Pool("A"), "-x"); !errors.Is(err, ErrInvalid) {
		t.Errorf("rename to -x: %v, want ErrInvalid", err)
	}
	if got := appPools(c); !slices.Equal(got, []string{"A", "a", "B"}) {
		t.Errorf("a refused rename changed the applications: %v", got)
	}
	if err := c.RenamePool(c.Pool("A"), "a"); err != nil || c.ApplicationPools[0].Name != "a" {
		t.Errorf("rename A→a (case only): %v %+v", err, c.ApplicationPools)
	}
}

// TestDeletePoolReassign: a pool in use is refused with the facts (pool,
// applications) unless its applications are reassigned to another
// existing pool; an unused pool goes whatever reassignTo says.
func TestDeletePoolReassign(t *testing.T) {
	c := rulesConfig()
	err := c.DeletePool(c.Pool("a"))
	var inUse *PoolInUseError
	if !errors.As(err, &inUse) || !errors.Is(err, ErrInUse) || inUse.Pool != "A" || !slices.Equal(inUse.Apps, []string{"S/", "S/x"}) {
		t.Fatalf("delete A in use: %v (%+v), want PoolInUseError{A, [S/ S/x]}", err, inUse)
	}
	if err.Error() != `apppool "A": in use by 2 application(s): S/, S/x` {
		t.Errorf("message %q", err)
	}
	for _, to := range []string{"nope", "A", ""} {
		if err := c.DeletePool(c.Pool("A"), to); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "reassignTo") {
			t.Errorf("delete A /reassignTo:%q: %v, want not found on reassignTo", to, err)
		}
	}
	if len(c.ApplicationPools) != 3 || !slices.Equal(appPools(c), []string{"A", "a", "B"}) {
		t.Fatalf("a refused delete changed the configuration: %+v %v", c.ApplicationPools, appPools(c))
	}
	if err := c.DeletePool(c.Pool("A"), "c"); err != nil {
		t.Fatal(err)
	}
	if got := appPools(c); !slices.Equal(got, []string{"C", "C", "B"}) {
		t.Errorf("applications after delete A /reassignTo:c: %v", got)
	}
	if c.Pool("A") != nil || len(c.ApplicationPools) != 2 {
		t.Errorf("pools after delete: %+v", c.ApplicationPools)
	}
	// Unused: reassignTo is not looked at.
	if err := c.DeletePool(c.Pool("B"), "nope"); err == nil {
		t.Errorf("delete B (in use) /reassignTo:nope succeeded")
	}
	c.Sites = nil
	if err := c.DeletePool(c.Pool("B"), "nope"); err != nil || c.Pool("B") != nil {
		t.Errorf("delete of an unused pool: %v", err)
	}
}

// TestSetPoolAutoStartMinimal: start and stop set the effective autoStart
// and write the pool's own value only where the inherited one differs.
func TestSetPoolAutoStartMinimal(t *testing.T) {
	c := rulesConfig()
	p := c.Pool("A")
	if !c.PoolAutoStart(p) {
		t.Fatal("autoStart defaults to true")
	}
	c.SetPoolAutoStart(p, false)
	if c.PoolAutoStart(p) || p.AutoStart == nil || *p.AutoStart {
		t.Errorf("after stop: effective %v, own %v", c.PoolAutoStart(p), p.AutoStart)
	}
	c.SetPoolAutoStart(p, true)
	if !c.PoolAutoStart(p) || p.AutoStart != nil {
		t.Errorf("after start: effective %v, own %v, want the default inherited", c.PoolAutoStart(p), p.AutoStart)
	}
	off := false
	c.ApplicationPoolDefaults.AutoStart = &off
	if c.PoolAutoStart(p) {
		t.Fatal("applicationPoolDefaults.autoStart false is inherited")
	}
	c.SetPoolAutoStart(p, true)
	if !c.PoolAutoStart(p) || p.AutoStart == nil || !*p.AutoStart {
		t.Errorf("start against defaults false: effective %v, own %v", c.PoolAutoStart(p), p.AutoStart)
	}
	c.SetPoolAutoStart(p, false)
	if c.PoolAutoStart(p) || p.AutoStart != nil {
		t.Errorf("stop against defaults false: effective %v, own %v, want inherited", c.PoolAutoStart(p), p.AutoStart)
	}
}

// TestErrorsCarryFactsForHints: the store's errors name no poolctl command;
// they carry what the tool needs to word one (Reason, Value), and render
// the hint the tool registered.
func TestErrorsCarryFactsForHints(t *testing.T) {
	c := rulesConfig()
	c.Sites[1].Applications[0].ApplicationPool = "Sales"
	err := c.Validate()
	var oe *ObjectError
	if !errors.As(err, &oe) || oe.Reason != ReasonMissingPool || oe.Value != "Sales" {
		t.Fatalf("Validate with a missing pool: %#v, want ReasonMissingPool for Sales", err)
	}
	notFound := NotFound("site", "S")
	if !errors.As(notFound, &oe) || oe.Reason != ReasonNotFound {
		t.Errorf("NotFound: %#v, want ReasonNotFound", notFound)
	}
	_, terr := UnmarshalPools([]byte("# no pools\n"))
	var te *TemplateError
	if !errors.As(terr, &te) || te.Reason != ReasonNoTemplatePools || !errors.Is(terr, ErrInvalid) {
		t.Errorf("template without pools: %#v", terr)
	}
	for _, e := range []error{err, notFound, terr, &PoolInUseError{Pool: "A", Apps: []string{"S/"}}, &InvalidStoreError{Path: "/s", Err: ErrInvalid}} {
		if strings.Contains(e.Error(), "poolctl") {
			t.Errorf("%q names poolctl", e)
		}
	}
	SetHintFunc(func(err error) string {
		if errors.As(err, &oe) {
			return "hint for " + oe.Value
		}
		return ""
	})
	defer SetHintFunc(nil)
	if got := err.Error(); !strings.HasSuffix(got, "; hint for Sales") {
		t.Errorf("with a hint registered: %q", got)
	}
}

// TestAssignPool: an application gets its pool's own spelling; a missing
// pool is not found, with the facts for the tool's hint.
func TestAssignPool(t *testing.T) {
	c := rulesConfig()
	app := Application{Path: "/y", ApplicationPool: "b"}
	if err := c.AssignPool(&app, "S/y"); err != nil || app.ApplicationPool != "B" {
		t.Errorf("AssignPool b: %v %q, want B", err, app.ApplicationPool)
	}
	app.ApplicationPool = "Nope"
	err := c.AssignPool(&app, "S/y")
	var oe *ObjectError
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &oe) || oe.Reason != ReasonUnknownPool || oe.Value != "Nope" || oe.ID != "S/y" {
		t.Errorf("AssignPool Nope: %#v", err)
	}
	if app.ApplicationPool != "Nope" {
		t.Errorf("a refused AssignPool changed the application: %q", app.ApplicationPool)
	}
}

// TestSiteAutoStartMinimal: a started site has no serverAutoStart written.
func TestSiteAutoStartMinimal(t *testing.T) {
	var s Site
	if !s.AutoStart() {
		t.Fatal("a site starts by default")
	}
	s.SetAutoStart(false)
	if s.AutoStart() || s.ServerAutoStart == nil {
		t.Errorf("after stop: %v %v", s.AutoStart(), s.ServerAutoStart)
	}
	s.SetAutoStart(true)
	if !s.AutoStart() || s.ServerAutoStart != nil {
		t.Errorf("after start: %v %v, want the default, unwritten", s.AutoStart(), s.ServerAutoStart)
	}
}
