package commands

import (
	"fmt"
	"strings"

	"github.com/poolctl/poolctl/commands/params"
	"github.com/poolctl/poolctl/store"
)

func vdirObject() *object {
	return &object{
		name:    "vdir",
		aliases: []string{"vdirs"},
		summary: `A virtual directory: a directory served below an application ("Site/app/path"; the app's root is "Site/app/")`,
		schema:  func() []propHelp { return schemaHelp(store.VdirSchema, "") },
		actions: map[string]action{
			"list": {listVdir, `poolctl list vdir ["SITE/APP/PATH"] [/app.name:"SITE/APP"] [/text:ATTR | /text:* | /json]`,
				"List virtual directories, including each application's root"},
			"add": {addVdir, `poolctl add vdir /app.name:"SITE/APP" /path:/PATH /physicalPath:DIR`,
				"Serve DIR at PATH below the application"},
			"set": {setVdir, `poolctl set vdir "SITE/APP/PATH" [/physicalPath:DIR] [/path:/NEWPATH]`,
				"Change a virtual directory; the root one is the application's physicalPath"},
			"delete": {deleteVdir, `poolctl delete vdir "SITE/APP/PATH"`, "Delete a virtual directory"},
		},
	}
}

// vdirObj is a virtual directory, or an application's root (vdir nil).
type vdirObj struct {
	site *store.Site
	app  *store.Application
	vdir *store.VirtualDirectory
}

func (v *vdirObj) name() string {
	appID := store.AppName(v.site.Name, v.app.Path)
	if v.vdir == nil {
		return vdirRootName(appID)
	}
	return store.AppName(strings.TrimSuffix(appID, "/"), v.vdir.Path)
}

func (v *vdirObj) path() string {
	if v.vdir == nil {
		return "/"
	}
	return v.vdir.Path
}

func (v *vdirObj) physicalPath() string {
	if v.vdir == nil {
		return v.app.PhysicalPath
	}
	return v.vdir.PhysicalPath
}

func vdirView() *view {
	return newView("VDIR", []prop{
		{key: "name", aliases: []string{"vdir.name"}, header: "NAME", get: func(o any) any { return o.(*vdirObj).name() }},
		{key: "app.name", get: func(o any) any { v := o.(*vdirObj); return store.AppName(v.site.Name, v.app.Path) }},
		{key: "path", get: func(o any) any { return o.(*vdirObj).path() }},
		{key: "physicalPath", header: "PHYSICAL PATH", get: func(o any) any { return o.(*vdirObj).physicalPath() }},
	})
}

// findVdir resolves "Site/app/path": the application with the longest
// matching path, then the virtual directory below it ("" or "/" is the
// application's root).
func findVdir(c *store.Config, id string) (*vdirObj, error) {
	siteName, rest, ok := store.SplitAppName(id)
	if !ok {
		return nil, usagef(`virtual directory identifier %q: expected "SITE/APP/PATH", e.g. "Default Web Site/images"`, id)
	}
	s := c.Site(siteName)
	if s == nil {
		return nil, store.NotFound("vdir", id)
	}
	var app *store.Application
	for i := range s.Applications {
		a := &s.Applications[i]
		lp, lr := strings.ToLower(a.Path), strings.ToLower(rest)
		if (a.Path == "/" || lr == lp || strings.HasPrefix(lr, lp+"/")) && (app == nil || len(a.Path) > len(app.Path)) {
			app = a
		}
	}
	if app == nil {
		return nil, store.NotFound("vdir", id)
	}
	sub := rest
	if app.Path != "/" {
		sub = rest[len(app.Path):]
	}
	if sub == "" || sub == "/" {
		return &vdirObj{site: s, app: app}, nil
	}
	v := app.Vdir(sub)
	if v == nil {
		return nil, store.NotFound("vdir", id)
	}
	return &vdirObj{site: s, app: app, vdir: v}, nil
}

func listVdir(e *env, a params.Args) error {
	v := vdirView()
	l, err := parseList(a, "vdir.name", v)
	if err != nil {
		return err
	}
	id, hasID, filters := l.id, l.hasID, l.filters
	cfg, err := e.load()
	if err != nil {
		return err
	}
	var want string
	if hasID {
		obj, err := findVdir(cfg, id)
		if err != nil {
			return err
		}
		want = obj.name()
	}
	var rows []row
	for si := range cfg.Sites {
		s := &cfg.Sites[si]
		for ai := range s.Applications {
			app := &s.Applications[ai]
			objs := []*vdirObj{{site: s, app: app}}
			for vi := range app.VirtualDirectories {
				objs = append(objs, &vdirObj{site: s, app: app, vdir: &app.VirtualDirectories[vi]})
			}
			for _, o := range objs {
				r := row{v: v, id: o.name(), obj: o}
				if (!hasID || r.id == want) && r.match(filters) {
					rows = append(rows, r)
				}
			}
		}
	}
	sortRows(rows)
	return render(e.stdout, v, rows, l.mode)
}

func addVdir(e *env, a params.Args) error {
	if a.HasID {
		return usagef(`add vdir takes /app.name:"SITE/APP" and /path:/PATH rather than %q`, a.ID)
	}
	appName, ok := a.Lookup("app.name")
	if !ok || appName.Value == "" {
		return usagef(`add vdir needs /app.name:"SITE/APP"`)
	}
	rest, _ := a.Take("app.name")
	var name string
	_, err := e.update(func(c *store.Config) error {
		s, app, err := findApp(c, appName.Value)
		if err != nil {
			return err
		}
		var vd store.VirtualDirectory
		t := &target{object: "vdir", id: appName.Value, schema: store.VdirSchema, root: &vd,
			inherited: func(f *store.Field) any { return f.DefaultValue() }}
		if err := t.apply(rest.Params); err != nil {
			return err
		}
		obj := &vdirObj{site: s, app: app, vdir: &vd}
		name = obj.name()
		if vd.Path == "" {
			return usagef("add vdir needs /path:/PATH")
		}
		if err := store.ValidateURLPath("vdir", name, vd.Path); err != nil {
			return err
		}
		if old := app.Vdir(vd.Path); old != nil {
			return store.Exists("vdir", name, (&vdirObj{site: s, app: app, vdir: old}).name())
		}
		app.VirtualDirectories = append(app.VirtualDirectories, vd)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "VDIR object %q added\n", name)
	return nil
}

func setVdir(e *env, a params.Args) error {
	id, rest, err := idAndRest(a, "vdir", "vdir.name")
	if err != nil {
		return err
	}
	if len(rest.Params) == 0 {
		return usagef("set vdir %q: nothing to set; give /physicalPath:DIR", id)
	}
	final := id
	changed, err := e.update(func(c *store.Config) error {
		obj, err := findVdir(c, id)
		if err != nil {
			return err
		}
		if obj.vdir == nil {
			// The root virtual directory is the application's physicalPath.
			if _, ok := rest.Lookup("path"); ok {
				return usagef("the root virtual directory %q has no path of its own; change the application's with 'poolctl set app'", obj.name())
			}
			if err := appTarget(obj.name(), obj.app).apply(rest.Params); err != nil {
				return err
			}
		} else {
			t := &target{object: "vdir", id: obj.name(), schema: store.VdirSchema, root: obj.vdir,
				inherited: func(f *store.Field) any { return f.DefaultValue() }}
			if err := t.apply(rest.Params); err != nil {
				return err
			}
		}
		final = obj.name()
		return nil
	})
	if err != nil {
		return err
	}
	reportChange(e, "VDIR", final, changed)
	return nil
}

func deleteVdir(e *env, a params.Args) error {
	id, err := idOnly(a, "delete", "vdir", "vdir.name")
	if err != nil {
		return err
	}
	var name string
	_, err = e.update(func(c *store.Config) error {
		obj, err := findVdir(c, id)
		if err != nil {
			return err
		}
		name = obj.name()
		if obj.vdir == nil {
			return usagef("%q is the root virtual directory of its application; delete the application instead ('poolctl delete app')", name)
		}
		obj.app.VirtualDirectories = without(obj.app.VirtualDirectories, obj.vdir)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "VDIR object %q deleted\n", name)
	return nil
}
