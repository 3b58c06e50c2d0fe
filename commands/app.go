package commands

import (
	"fmt"
	"strings"

	"github.com/poolctl/poolctl/commands/params"
	"github.com/poolctl/poolctl/store"
)

func appObject() *object {
	return &object{
		name:    "app",
		aliases: []string{"apps"},
		summary: `An application: a URL path of a site, served by one pool ("Site/path"; the root is "Site/")`,
		schema:  func() []propHelp { return schemaHelp(store.AppSchema, "") },
		actions: map[string]action{
			"list": {listApp, `poolctl list app ["SITE/PATH"] [/site.name:S] [/apppool.name:P] [/text:ATTR | /text:* | /json]`,
				"List applications, filtered by site, pool or any property"},
			"add": {addApp, "poolctl add app /site.name:SITE /path:/PATH /physicalPath:DIR [/applicationPool:POOL]",
				"Create an application in a site, served by POOL (default DefaultAppPool)"},
			"set": {setApp, `poolctl set app "SITE/PATH" [/applicationPool:POOL] [/physicalPath:DIR] [/path:/NEWPATH]`,
				"Move an application to another pool, directory or path"},
			"delete": {deleteApp, `poolctl delete app "SITE/PATH"`, "Delete an application and its virtual directories"},
		},
	}
}

// appObj is what the app view reads.
type appObj struct {
	site *store.Site
	app  *store.Application
}

func appView() *view {
	props := []prop{
		{key: "name", aliases: []string{"app.name"}, header: "NAME", get: func(o any) any { a := o.(*appObj); return store.AppName(a.site.Name, a.app.Path) }},
		{key: "site.name", get: func(o any) any { return o.(*appObj).site.Name }},
	}
	headers := map[string]string{"applicationPool": "APPLICATION POOL", "physicalPath": "PHYSICAL PATH"}
	for _, p := range schemaProps(store.AppSchema, func(o any, f *store.Field) any { v, _ := f.Get(o.(*appObj).app); return v }) {
		if p.key == "applicationPool" {
			p.aliases = []string{"apppool.name"}
		}
		p.header = headers[p.key]
		props = append(props, p)
	}
	return newView("APP", props)
}

// findApp resolves "Site/path" to its site and application.
func findApp(c *store.Config, id string) (*store.Site, *store.Application, error) {
	siteName, path, ok := store.SplitAppName(id)
	if !ok {
		return nil, nil, usagef(`application identifier %q: expected "SITE/PATH", e.g. "Default Web Site/" for the root or "Contoso/mkt"`, id)
	}
	s := c.Site(siteName)
	if s == nil {
		return nil, nil, store.NotFound("app", id)
	}
	app := s.App(path)
	if app == nil {
		return nil, nil, store.NotFound("app", id)
	}
	return s, app, nil
}

func listApp(e *env, a params.Args) error {
	v := appView()
	l, err := parseList(a, "app.name", v)
	if err != nil {
		return err
	}
	id, hasID, filters := l.id, l.hasID, l.filters
	cfg, err := e.load()
	if err != nil {
		return err
	}
	if hasID {
		if _, _, err := findApp(cfg, id); err != nil {
			return err
		}
	}
	var rows []row
	for si := range cfg.Sites {
		s := &cfg.Sites[si]
		for ai := range s.Applications {
			r := row{v: v, id: store.AppName(s.Name, s.Applications[ai].Path), obj: &appObj{site: s, app: &s.Applications[ai]}}
			if (!hasID || strings.EqualFold(r.id, id)) && r.match(filters) {
				rows = append(rows, r)
			}
		}
	}
	sortRows(rows)
	return render(e.stdout, v, rows, l.mode)
}

func appTarget(id string, app *store.Application) *target {
	return &target{object: "app", id: id, schema: store.AppSchema, root: app,
		inherited: func(f *store.Field) any { return f.DefaultValue() }}
}

func addApp(e *env, a params.Args) error {
	if a.HasID {
		return usagef("add app takes /site.name:SITE and /path:/PATH rather than %q", a.ID)
	}
	site, ok := a.Lookup("site.name")
	if !ok || site.Value == "" {
		return usagef("add app needs /site.name:SITE")
	}
	rest, _ := a.Take("site.name")
	path, ok := rest.Lookup("path")
	if !ok {
		return usagef("add app needs /path:/PATH")
	}
	var id string
	_, err := e.update(func(c *store.Config) error {
		s := c.Site(site.Value)
		if s == nil {
			return store.NotFound("site", site.Value)
		}
		app := store.Application{ApplicationPool: store.DefaultPoolName}
		if err := appTarget(store.AppName(s.Name, path.Value), &app).apply(rest.Params); err != nil {
			return err
		}
		id = store.AppName(s.Name, app.Path)
		if err := store.ValidateURLPath("app", id, app.Path); err != nil {
			return err
		}
		if old := s.App(app.Path); old != nil {
			return store.Exists("app", id, store.AppName(s.Name, old.Path))
		}
		if err := c.AssignPool(&app, id); err != nil {
			return err
		}
		s.Applications = append(s.Applications, app)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "APP object %q added\n", id)
	if _, ok := rest.Lookup("physicalPath"); ok {
		fmt.Fprintf(e.stdout, "VDIR object %q added\n", vdirRootName(id))
	}
	return nil
}

func vdirRootName(appID string) string {
	if strings.HasSuffix(appID, "/") {
		return appID
	}
	return appID + "/"
}

func setApp(e *env, a params.Args) error {
	id, rest, err := idAndRest(a, "app", "app.name")
	if err != nil {
		return err
	}
	if len(rest.Params) == 0 {
		return usagef("set app %q: nothing to set; give /applicationPool:POOL or another property (see 'poolctl set app /?')", id)
	}
	final := id
	changed, err := e.update(func(c *store.Config) error {
		s, app, err := findApp(c, id)
		if err != nil {
			return err
		}
		if err := appTarget(id, app).apply(rest.Params); err != nil {
			return err
		}
		final = store.AppName(s.Name, app.Path)
		return c.AssignPool(app, final)
	})
	if err != nil {
		return err
	}
	reportChange(e, "APP", final, changed)
	return nil
}

func deleteApp(e *env, a params.Args) error {
	id, err := idOnly(a, "delete", "app", "app.name")
	if err != nil {
		return err
	}
	var name string
	_, err = e.update(func(c *store.Config) error {
		s, app, err := findApp(c, id)
		if err != nil {
			return err
		}
		name = store.AppName(s.Name, app.Path)
		s.Applications = without(s.Applications, app)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "APP object %q deleted\n", name)
	return nil
}
