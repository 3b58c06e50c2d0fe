package commands

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/poolctl/poolctl/commands/params"
	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/runstate"
	"github.com/poolctl/poolctl/store"
)

func siteObject() *object {
	return &object{
		name:    "site",
		aliases: []string{"sites"},
		summary: "A web site: bindings (where it listens) and applications",
		schema:  func() []propHelp { return schemaHelp(store.SiteSchema, "") },
		actions: map[string]action{
			"list": {listSite, "poolctl list site [NAME | URL] [/property:value ...] [/text:ATTR | /text:* | /json]",
				"List sites; with a URL, the site that serves it"},
			"add": {addSite, "poolctl add site /name:NAME [/id:N] [/bindings:http/*:80:[,...]] [/physicalPath:DIR [/applicationPool:POOL]]",
				"Create a site; with /physicalPath also its root application"},
			"set": {setSite, "poolctl set site NAME [/name:NEW] [/id:N] [/bindings:...] [/+bindings.[protocol='https',bindingInformation='*:443:',certificateFile='F',keyFile='K']] [/-bindings.[...]]",
				"Change a site's name, id, bindings or autostart"},
			"delete": {deleteSite, "poolctl delete site NAME", "Delete a site and its applications"},
			"start":  {startSite, "poolctl start site NAME", "Serve the site, and keep serving it across host restarts"},
			"stop":   {stopSite, "poolctl stop site NAME", "Stop serving the site, and keep it stopped across host restarts"},
		},
	}
}

// siteView describes sites; rt is the host's view by lower-case name (nil
// when no host runs: the state shown is then the stored one).
func siteView(rt map[string]hostapi.SiteStatus) *view {
	props := []prop{
		{key: "name", aliases: []string{"site.name"}, header: "NAME", get: func(o any) any { return o.(*store.Site).Name }},
		{key: "state", header: "STATE", get: func(o any) any {
			if st, ok := rt[strings.ToLower(o.(*store.Site).Name)]; ok {
				return st.State
			}
			return siteState(o.(*store.Site))
		}},
	}
	headers := map[string]string{"id": "ID", "bindings": "BINDINGS"}
	for _, p := range schemaProps(store.SiteSchema, func(o any, f *store.Field) any {
		if v, ok := f.Get(o); ok {
			return v
		}
		return f.DefaultValue()
	}) {
		if p.key == "name" {
			continue
		}
		if p.key == "id" {
			p.aliases = []string{"site.id"}
		}
		p.header = headers[p.key]
		props = append(props, p)
	}
	props = append(props, prop{key: "physicalPath", header: "PHYSICAL PATH", get: func(o any) any {
		if a := o.(*store.Site).App("/"); a != nil {
			return a.PhysicalPath
		}
		return ""
	}})
	return newView("SITE", props)
}

// siteState is the state the store asks for: Started unless
// serverAutoStart is false.
func siteState(s *store.Site) runstate.Site {
	if s.AutoStart() {
		return runstate.SiteStarted
	}
	return runstate.SiteStopped
}

func listSite(e *env, a params.Args) error {
	rt := map[string]hostapi.SiteStatus{} // filled below; the view reads it
	v := siteView(rt)
	l, err := parseList(a, "site.name", v)
	if err != nil {
		return err
	}
	id, hasID, filters := l.id, l.hasID, l.filters
	cfg, err := e.load()
	if err != nil {
		return err
	}
	sites, _, err := hostCall(e, e.host.Sites)
	if err != nil {
		return err
	}
	for _, st := range sites {
		rt[strings.ToLower(st.Name)] = st
	}
	byURL := hasID && strings.Contains(id, "://")
	var rows []row
	for i := range cfg.Sites {
		s := &cfg.Sites[i]
		r := row{v: v, id: s.Name, obj: s}
		switch {
		case byURL:
			ok, err := siteServes(s, id)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		case hasID && !strings.EqualFold(s.Name, id):
			continue
		}
		if r.match(filters) {
			rows = append(rows, r)
		}
	}
	if hasID && !byURL && cfg.Site(id) == nil {
		return store.NotFound("site", id)
	}
	sortRows(rows)
	return render(e.stdout, v, rows, l.mode)
}

// siteServes reports whether one of the site's bindings accepts the URL:
// same protocol and port, a matching address, and a matching or empty host.
func siteServes(s *store.Site, raw string) (bool, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false, usagef("%q is not a URL: expected http://host[:port]/", raw)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	host := u.Hostname()
	for _, b := range s.Bindings {
		ep, err := store.ParseBindingInformation(b.BindingInformation)
		if err != nil || b.Protocol != u.Scheme || strconv.Itoa(int(ep.Port)) != port {
			continue
		}
		ipOK := ep.IP == "*" || net.ParseIP(host) == nil || net.ParseIP(host).Equal(net.ParseIP(ep.IP))
		if ipOK && (ep.Host == "" || strings.EqualFold(ep.Host, host)) {
			return true, nil
		}
	}
	return false, nil
}

func siteTarget(s *store.Site) *target {
	return &target{object: "site", id: s.Name, schema: store.SiteSchema, root: s,
		inherited: func(f *store.Field) any { return f.DefaultValue() }}
}

func addSite(e *env, a params.Args) error {
	name, rest, err := idAndRest(a, "site", "name")
	if err != nil {
		return err
	}
	rest, phys := rest.Take("physicalPath")
	rest, pool := rest.Take("applicationPool")
	if len(pool) > 0 && len(phys) == 0 {
		return usagef("/applicationPool goes with /physicalPath, which creates the root application")
	}
	if err := store.ValidateSiteName(name); err != nil {
		return err
	}
	_, err = e.update(func(c *store.Config) error {
		if s := c.Site(name); s != nil {
			return store.Exists("site", name, s.Name)
		}
		s := store.Site{Name: name, ID: c.NextSiteID(), Bindings: []store.Binding{}}
		if err := siteTarget(&s).apply(rest.Params); err != nil {
			return err
		}
		if len(phys) > 0 {
			app := store.Application{Path: "/", ApplicationPool: store.DefaultPoolName, PhysicalPath: phys[0].Value}
			if len(pool) > 0 {
				app.ApplicationPool = pool[0].Value
			}
			if err := c.AssignPool(&app, store.AppName(name, "/")); err != nil {
				return err
			}
			s.Applications = append(s.Applications, app)
		}
		c.Sites = append(c.Sites, s)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "SITE object %q added\n", name)
	if len(phys) > 0 {
		fmt.Fprintf(e.stdout, "APP object %q added\nVDIR object %q added\n", name+"/", name+"/")
	}
	return nil
}

func setSite(e *env, a params.Args) error {
	id, rest, err := idAndRest(a, "site", "site.name")
	if err != nil {
		return err
	}
	if len(rest.Params) == 0 {
		return usagef("set site %q: nothing to set; give /property:value (see 'poolctl set site /?')", id)
	}
	final := id
	changed, err := e.update(func(c *store.Config) error {
		s := c.Site(id)
		if s == nil {
			return store.NotFound("site", id)
		}
		if err := siteTarget(s).apply(rest.Params); err != nil {
			return err
		}
		final = s.Name
		return validateSiteLast(c, s)
	})
	if err != nil {
		return err
	}
	reportChange(e, "SITE", final, changed)
	return nil
}

// validateSiteLast validates c as if the changed site s came last, so that a
// clash of name, id or binding is blamed on s rather than on the site it
// clashes with (validation reports the later of two sites).
func validateSiteLast(c *store.Config, s *store.Site) error {
	probe := *c
	probe.Sites = make([]store.Site, 0, len(c.Sites))
	for i := range c.Sites {
		if &c.Sites[i] != s {
			probe.Sites = append(probe.Sites, c.Sites[i])
		}
	}
	probe.Sites = append(probe.Sites, *s)
	// Other problems are left to the store's own validation, which blames
	// the file when it was invalid before the change.
	var oe *store.ObjectError
	if err := probe.Validate(); errors.As(err, &oe) && oe.Object == "site" && oe.ID == s.Name {
		return err
	}
	return nil
}

func deleteSite(e *env, a params.Args) error {
	id, err := idOnly(a, "delete", "site", "site.name")
	if err != nil {
		return err
	}
	name := id
	_, err = e.update(func(c *store.Config) error {
		for i := range c.Sites {
			if strings.EqualFold(c.Sites[i].Name, id) {
				name = c.Sites[i].Name
				c.Sites = append(c.Sites[:i], c.Sites[i+1:]...)
				return nil
			}
		}
		return store.NotFound("site", id)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "SITE object %q deleted\n", name)
	return nil
}

func startSite(e *env, a params.Args) error { return setSiteRunning(e, a, "start", true) }
func stopSite(e *env, a params.Args) error  { return setSiteRunning(e, a, "stop", false) }

// setSiteRunning persists the desired state in serverAutoStart.
func setSiteRunning(e *env, a params.Args, verb string, run bool) error {
	id, rest, err := idAndRest(a, "site", "site.name")
	if err != nil {
		return err
	}
	if err := noParams(rest, verb, "site"); err != nil {
		return err
	}
	name := id
	_, err = e.update(func(c *store.Config) error {
		s := c.Site(id)
		if s == nil {
			return store.NotFound("site", id)
		}
		name = s.Name
		if s.AutoStart() == run {
			return fmt.Errorf("%w: site %q is already %s", ErrAlreadyInState, s.Name, pastTense(verb))
		}
		s.SetAutoStart(run)
		return nil
	})
	if err != nil {
		return err
	}
	if !hostRunning(e) {
		fmt.Fprintf(e.stdout, "%q %s (saved; poolctl host is not running, so it takes effect when the host starts)\n", name, pastTense(verb))
		return nil
	}
	fmt.Fprintf(e.stdout, "%q successfully %s.\n", name, pastTense(verb))
	return nil
}
