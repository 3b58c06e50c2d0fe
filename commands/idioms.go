package commands

import (
	"fmt"
	"strings"

	"github.com/poolctl/poolctl/commands/params"
	"github.com/poolctl/poolctl/store"
)

// This file carries out appcmd's element edits of 'set config
// /section:applicationPools', as Microsoft's documentation writes them:
//
//	/[name='X'].processModel.identityType:NetworkService   set a pool's property
//	/+[name='X',autoStart='true']                           add a pool
//	/-[name='X']                                            delete it
//	/+[name='X'].environmentVariables.[name='A',value='b']  edit a collection of it
//
// They do what the apppool verbs do, inside the same store update as the
// rest of the command.

// isElementEdit reports whether p selects an element of the section itself
// ([name='X'] with no path before it).
func isElementEdit(p params.Param) bool {
	return p.Name == "" && p.Selector != nil
}

// poolElementEdit carries out one element edit of the applicationPools
// section on c.
func poolElementEdit(c *store.Config, p params.Param) error {
	name, attrs, err := poolSelector(p)
	if err != nil {
		return err
	}
	switch {
	case p.Op == params.OpAdd && p.Nested == nil:
		return addPoolElement(c, name, attrs, p.Raw)
	case p.Op == params.OpRemove && p.Nested == nil:
		return removePoolElement(c, name)
	}
	pool := c.Pool(name)
	if pool == nil {
		return store.NotFound("apppool", name)
	}
	edit := p.Nested
	if edit == nil { // /[name='X'].attr:value
		edit = &params.Param{Op: params.OpSet, Raw: p.Raw, Name: p.Attr, Value: p.Value, HasValue: p.HasValue}
	}
	if edit.Op == params.OpSet && edit.Selector == nil && strings.EqualFold(edit.Name, "name") {
		return renamePool(c, pool, edit.Value)
	}
	return poolTarget(c, pool).apply([]params.Param{*edit})
}

// poolSelector returns the pool name of an element selector and, for an add,
// the other pairs as properties to set.
func poolSelector(p params.Param) (string, []params.Param, error) {
	name, found := "", false
	var attrs []params.Param
	for _, kv := range p.Selector {
		if strings.EqualFold(kv.Key, "name") && !found {
			name, found = kv.Value, true
			continue
		}
		if p.Op != params.OpAdd || p.Nested != nil {
			found = false
			break
		}
		attrs = append(attrs, params.Param{Op: params.OpSet, Raw: p.Raw, Name: kv.Key, Value: kv.Value, HasValue: true})
	}
	if !found {
		return "", nil, usagef("%q: elements of section applicationPools are selected by name: [name='POOL'], e.g. %s", p.Raw,
			`"/[name='DefaultAppPool'].queueLength:2000"`)
	}
	return name, attrs, nil
}

// addPoolElement adds pool name with the attributes given in the selector.
func addPoolElement(c *store.Config, name string, attrs []params.Param, raw string) error {
	if err := store.ValidateNewPoolName(name); err != nil {
		return err
	}
	if p := c.Pool(name); p != nil {
		return store.Exists("apppool", name, p.Name)
	}
	pool := store.AppPool{Name: name}
	if err := poolTarget(c, &pool).apply(attrs); err != nil {
		return fmt.Errorf("%q: %w", raw, err)
	}
	c.ApplicationPools = append(c.ApplicationPools, pool)
	return nil
}

// removePoolElement deletes pool name, refusing while applications use it
// (as 'delete apppool' does).
func removePoolElement(c *store.Config, name string) error {
	p := c.Pool(name)
	if p == nil {
		return store.NotFound("apppool", name)
	}
	if users := c.AppsUsing(p.Name); len(users) > 0 {
		return &store.ObjectError{Object: "apppool", ID: p.Name, Err: store.ErrInUse,
			Msg:  fmt.Sprintf("in use by %d application(s): %s", len(users), strings.Join(users, ", ")),
			Hint: "move them first with 'poolctl delete apppool " + p.Name + " /reassignTo:OTHERPOOL' or 'poolctl set app \"SITE/PATH\" /applicationPool:OTHERPOOL'"}
	}
	c.ApplicationPools = without(c.ApplicationPools, p)
	return nil
}

// noSection is the error for a /section poolctl does not have. IIS's web
// server sections (system.webServer/..., system.web/...) configure Windows
// modules and ASP.NET, which poolctl cannot honour on Linux; sites are
// edited with the site verbs.
func noSection(want string, names []string) error {
	msg, hint := "no such section", "sections: "+strings.Join(names, ", ")
	lower := strings.ToLower(want)
	switch {
	case strings.HasPrefix(lower, "system.webserver/"), strings.HasPrefix(lower, "system.web/"), strings.HasPrefix(lower, "system.net/"):
		msg = "no such section: it configures IIS's modules or ASP.NET on Windows, which poolctl cannot honour on Linux"
	case lower == "sites", lower == "system.applicationhost/sites":
		hint = `edit sites with poolctl set site NAME /PROPERTY:VALUE, their bindings with poolctl set site NAME "/+bindings.[protocol='http',bindingInformation='*:80:']"; ` + hint
	}
	return &store.ObjectError{Object: "config", ID: want, Msg: msg, Hint: hint, Err: store.ErrNotFound}
}
