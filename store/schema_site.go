package store

// SiteSchema is the table of site properties.
var SiteSchema = newSchema("site", (*Site)(nil), []Field{
	{Path: "name", Kind: KindString, Help: "The site's name, unique case-insensitively"},
	{Path: "id", Kind: KindUint, Min: 1, Max: maxUint32, Help: "The site's numeric id, unique; 'add site' picks the next free one"},
	{Path: "serverAutoStart", Kind: KindBool, Default: "true", Help: "Serve the site when the host starts; 'stop site' clears it so a stop sticks"},
	{Path: "logFile.enabled", Kind: KindBool, Default: "true", Help: "Write the site's access log"},
	{Path: "logFile.logFormat", Kind: KindEnum, Default: "W3C", Values: enums("W3C", "JSON"), Help: "W3C extended (IIS's default fields) or JSON lines"},
	{Path: "logFile.directory", Kind: KindString, Default: "", Help: "Directory of the log; empty is logs/sites under the host's state directory. The file is W3SVC<id>/access.log in it"},
	{Path: "logFile.period", Kind: KindEnum, Default: "Daily", Values: enums("MaxSize", "Daily", "Weekly", "Monthly", "Hourly"), Help: "Start a new file after this long (MaxSize: only by size)"},
	{Path: "logFile.truncateSize", Kind: KindUint, Default: "20971520", Min: 1048576, Max: maxUint32, Help: "Start a new file when the log would grow past this many bytes"},
	{Path: "logFile.keep", Kind: KindUint, Default: "30", Min: 0, Max: 100000, Help: "Rotated files kept (access.log.1 newest); older ones are deleted"},
	{Path: "limits.connectionTimeout", Kind: KindTimeSpan, Default: "00:02:00", Min: 1, Max: 86400, Help: "Close a connection idle this long (keep-alive, or a request head not yet complete), and cut a request body when a read waits this long"},
	{Path: "limits.minBytesPerSecond", Kind: KindUint, Default: "240", Min: 0, Max: maxUint32, Help: "Cut a request body that arrives slower than this on average once connectionTimeout has passed; 0 checks only connectionTimeout"},
	{Path: "limits.maxConnections", Kind: KindUint, Default: "4294967295", Min: 1, Max: maxUint32, Help: "Connections the site serves at once; past it, requests get 503 and their connection closes"},
	{Path: "bindings", Kind: KindBindings, Help: "Where the site listens: /bindings:http/*:8080:,https/*:8443:host or /+bindings.[protocol='https',bindingInformation='*:443:',certificateFile='F',keyFile='K']"},
})

// AppSchema is the table of application properties.
var AppSchema = newSchema("app", (*Application)(nil), []Field{
	{Path: "path", Kind: KindString, Help: "URL path of the application: / or /a/b, no trailing slash"},
	{Path: "applicationPool", Kind: KindString, Help: "The pool that serves the application"},
	{Path: "physicalPath", Kind: KindString, Help: "Directory of the application's root virtual directory"},
	{Path: "appIsolation", Kind: KindEnum, Default: "Medium", Values: enums("Low", "Medium", "High"), Help: "Legacy isolation mode only: Low runs in the host, Medium in one shared worker, High in a worker of its own"},
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

// HostSchema is the table of the host section: host-wide settings.
var HostSchema = newSchema("host", (*HostSettings)(nil), []Field{
	{Path: "isolationMode", Kind: KindEnum, Default: "WorkerProcess", Values: enums("WorkerProcess", "Legacy"), Help: "WorkerProcess runs applications in their pools; Legacy (IIS 5.0 isolation) ignores pools and runs each application by its appIsolation"},
	{Path: "errorMode", Kind: KindEnum, Default: "DetailedLocalOnly", Values: enums("DetailedLocalOnly", "Detailed", "Custom"), Help: "Error pages the front writes: DetailedLocalOnly gives the detail to loopback clients only, Detailed to all, Custom to none; others get a short reason and a ref=ID found in the host log"},
	{Path: "maxConnections", Kind: KindUint, Default: "0", Min: 0, Max: maxUint32, Help: "Client connections the host accepts at once, all sites together; 0 is automatic: half of the descriptor limit left after 1024 kept for workers and logs"},
	{Path: "maxConnectionsPerClient", Kind: KindUint, Default: "256", Min: 0, Max: maxUint32, Help: "Connections one client IP address may hold at once; 0 is unlimited"},
	{Path: "metricsAddress", Kind: KindString, Default: "", Help: "Serve Prometheus metrics at http://ADDRESS/metrics; a bare :PORT listens on 127.0.0.1; empty is off (poolctl host --metrics overrides)"},
})
