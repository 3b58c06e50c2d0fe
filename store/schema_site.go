package store

// SiteSchema is the table of site properties.
var SiteSchema = newSchema("site", (*Site)(nil), []Field{
	{Path: "name", Kind: KindString, Help: "The site's name, unique case-insensitively"},
	{Path: "id", Kind: KindUint, Min: 1, Max: maxUint32, Help: "The site's numeric id, unique; 'add site' picks the next free one"},
	{Path: "serverAutoStart", Kind: KindBool, Default: "true", Help: "Serve the site when the host starts; 'stop site' clears it so a stop sticks"},
	{Path: "bindings", Kind: KindBindings, Help: "Where the site listens: /bindings:http/*:8080:,https/*:8443:host or /+bindings.[protocol='https',bindingInformation='*:443:',certificateFile='F',keyFile='K']"},
})

// AppSchema is the table of application properties.
var AppSchema = newSchema("app", (*Application)(nil), []Field{
	{Path: "path", Kind: KindString, Help: "URL path of the application: / or /a/b, no trailing slash"},
	{Path: "applicationPool", Kind: KindString, Help: "The pool that serves the application"},
	{Path: "physicalPath", Kind: KindString, Help: "Directory of the application's root virtual directory"},
})

// VdirSchema is the table of virtual directory properties.
var VdirSchema = newSchema("vdir", (*VirtualDirectory)(nil), []Field{
	{Path: "path", Kind: KindString, Help: "URL path below the application: /images"},
	{Path: "physicalPath", Kind: KindString, Help: "Directory served at that path"},
})

// HistorySchema is the table of the configHistory section.
var HistorySchema = newSchema("configHistory", (*ConfigHistory)(nil), []Field{
	{Path: "enabled", Kind: KindBool, Default: "true", Help: "Keep a snapshot of the store before each change"},
	{Path: "maxHistories", Kind: KindUint, Default: "10", Min: 1, Max: 100000, Help: "Snapshots kept; the oldest go first"},
	{Path: "path", Kind: KindString, Default: "", Help: "Directory of the snapshots; empty is 'history' beside the store"},
})
