package store

// Ranges shared by several rows, in seconds.
const (
	maxUint32      = 4294967295
	maxInt32       = 2147483647
	maxTimeLimit   = 4294967 // IIS's 1–4294967 s for start-up, shut-down and ping limits
	thirtyDays     = 2592000
	threeHundredDs = 25920000
	oneDay         = 86400
	hundredDays    = 8640000
)

func enums(names ...string) []EnumValue {
	v := make([]EnumValue, len(names))
	for i, n := range names {
		v[i] = EnumValue{Name: n, Num: uint64(i)}
	}
	return v
}

// PoolSchema is the table of application pool properties, the IIS 10 schema
// of system.applicationHost/applicationPools (reference/appcmd.md §2) plus
// poolctl's worker settings. Its root is PoolSettings, so it serves both
// pools and applicationPoolDefaults.
var PoolSchema = newSchema("apppool", (*PoolSettings)(nil), []Field{
	{Path: "queueLength", Kind: KindUint, Default: "1000", Min: 10, Max: 65535, Help: "Requests the host queues for the pool before answering 503"},
	{Path: "autoStart", Kind: KindBool, Default: "true", Help: "Start the pool when the host starts; 'stop apppool' clears it so a stop sticks"},
	{Path: "startMode", Kind: KindEnum, Default: "OnDemand", Values: enums("OnDemand", "AlwaysRunning"), Help: "OnDemand starts a worker on the first request; AlwaysRunning when the pool starts"},
	{Path: "enable32BitAppOnWin64", Kind: KindBool, Default: "false", Windows: true, Recycle: true, Help: "Windows only: run 32-bit workers"},
	{Path: "managedRuntimeVersion", Kind: KindEnum, Default: "", Values: enums("", "v1.1", "v2.0", "v4.0"), Windows: true, Recycle: true, Help: `Windows only: .NET CLR version ("" is No Managed Code)`},
	{Path: "managedRuntimeLoader", Kind: KindString, Default: "webengine4.dll", Windows: true, Recycle: true, Help: "Windows only: the CLR loader DLL"},
	{Path: "enableConfigurationOverride", Kind: KindBool, Default: "true", Windows: true, Recycle: true, Help: "Windows only: honour settings delegated to web.config"},
	{Path: "managedPipelineMode", Kind: KindEnum, Default: "Integrated", Values: enums("Integrated", "Classic"), Windows: true, Recycle: true, Help: "Windows only: ASP.NET pipeline mode"},
	{Path: "CLRConfigFile", Kind: KindString, Default: "", Windows: true, Recycle: true, Help: "Windows only: CLR configuration file"},
	{Path: "passAnonymousToken", Kind: KindBool, Default: "true", Windows: true, Recycle: true, Help: "Windows only: build the IUSR token for anonymous requests"},

	{Path: "processModel.identityType", Kind: KindEnum, Default: "ApplicationPoolIdentity", Values: enums("LocalSystem", "LocalService", "NetworkService", "SpecificUser", "ApplicationPoolIdentity"), Recycle: true, Help: "Who workers run as: a per-pool uid (ApplicationPoolIdentity), an unprivileged account, root (LocalSystem) or processModel.userName"},
	{Path: "processModel.userName", Kind: KindString, Default: "", Recycle: true, Help: "The system user workers run as with identityType SpecificUser"},
	{Path: "processModel.loadUserProfile", Kind: KindBool, Default: "false", Windows: true, Recycle: true, Help: "Windows only: load the identity's registry profile"},
	{Path: "processModel.setProfileEnvironment", Kind: KindBool, Default: "true", Recycle: true, Help: "Set HOME, USER, LOGNAME and SHELL of the identity in the worker's environment"},
	{Path: "processModel.logonType", Kind: KindEnum, Default: "LogonBatch", Values: enums("LogonBatch", "LogonService"), Windows: true, Recycle: true, Help: "Windows only: logon type of SpecificUser"},
	{Path: "processModel.manualGroupMembership", Kind: KindBool, Default: "false", Recycle: true, Help: "true: workers do not get the host-wide supplementary group (the IIS_IUSRS analogue)"},
	{Path: "processModel.idleTimeout", Kind: KindTimeSpan, Default: "00:20:00", Min: 0, Max: thirtyDays, Help: "Stop (or suspend) a worker that served nothing this long; 0 disables"},
	{Path: "processModel.idleTimeoutAction", Kind: KindEnum, Default: "Terminate", Values: enums("Terminate", "Suspend"), Help: "Terminate the idle worker, or Suspend it (SIGSTOP, resumed by the next request)"},
	{Path: "processModel.maxProcesses", Kind: KindUint, Default: "1", Min: 0, Max: maxInt32, Help: "Workers per pool; more than 1 is a web garden, 0 is one per CPU"},
	{Path: "processModel.shutdownTimeLimit", Kind: KindTimeSpan, Default: "00:01:30", Min: 1, Max: maxTimeLimit, Help: "Time a stopping worker gets to finish before SIGKILL"},
	{Path: "processModel.startupTimeLimit", Kind: KindTimeSpan, Default: "00:01:30", Min: 1, Max: maxTimeLimit, Help: "Time a starting worker gets to pass its health check"},
	{Path: "processModel.pingingEnabled", Kind: KindBool, Default: "true", Help: "Health-check running workers every pingInterval"},
	{Path: "processModel.pingInterval", Kind: KindTimeSpan, Default: "00:00:30", Min: 1, Max: maxTimeLimit, Help: "Time between health checks"},
	{Path: "processModel.pingResponseTime", Kind: KindTimeSpan, Default: "00:01:30", Min: 1, Max: maxTimeLimit, Help: "Time a health check may take before the worker counts as hung"},
	{Path: "processModel.logEventOnProcessModel", Kind: KindFlags, Default: "IdleTimeout", Values: enums("IdleTimeout"), Help: "Process-model events to log"},
	{Path: "processModel.command", Kind: KindCommand, Default: "", Recycle: true, Help: "Worker program and arguments, split like a shell; empty runs the built-in static/CGI worker"},
	{Path: "processModel.workingDirectory", Kind: KindString, Default: "", Recycle: true, Help: "Working directory of workers; empty is the root application's physical path"},
	{Path: "processModel.pingPath", Kind: KindString, Default: "", Help: "HTTP path for health checks (GET, 2xx/3xx is healthy); empty: GET / where any reply is healthy (a hang is not); tcp: a TCP connect only"},
	{Path: "processModel.maxConcurrentRequests", Kind: KindUint, Default: "0", Min: 0, Max: maxUint32, Help: "Requests one worker serves at once; more wait in the pool's queue; 0 is unlimited"},
	{Path: "processModel.listen", Kind: KindEnum, Default: "tcp", Values: enums("tcp", "unix"), Recycle: true, Help: "How workers listen: tcp is 127.0.0.1:$PORT; unix is a socket at the path in $POOLCTL_LISTEN (no $PORT), in a directory only the pool's identity and the host can enter"},

	{Path: "recycling.disallowOverlappingRotation", Kind: KindBool, Default: "false", Help: "Stop the old worker before starting its replacement (requests wait in the queue)"},
	{Path: "recycling.disallowRotationOnConfigChange", Kind: KindBool, Default: "false", Help: "Do not recycle workers when a setting they read at start changes"},
	{Path: "recycling.logEventOnRecycle", Kind: KindFlags, Default: "Time,Requests,Schedule,Memory,IsapiUnhealthy,OnDemand,ConfigChange,PrivateMemory", Values: []EnumValue{{"Time", 1}, {"Requests", 2}, {"Schedule", 4}, {"Memory", 8}, {"IsapiUnhealthy", 16}, {"OnDemand", 32}, {"ConfigChange", 64}, {"PrivateMemory", 128}}, Help: "Recycle reasons that are logged as events"},
	{Path: "recycling.periodicRestart.memory", Kind: KindUint, Default: "0", Min: 0, Max: maxUint32, Help: "Recycle a worker whose virtual memory exceeds this many KB; 0 disables"},
	{Path: "recycling.periodicRestart.privateMemory", Kind: KindUint, Default: "0", Min: 0, Max: maxUint32, Help: "Recycle a worker whose private memory exceeds this many KB; 0 disables"},
	{Path: "recycling.periodicRestart.requests", Kind: KindUint, Default: "0", Min: 0, Max: maxUint32, Help: "Recycle a worker after this many requests; 0 disables"},
	{Path: "recycling.periodicRestart.time", Kind: KindTimeSpan, Default: "1.05:00:00", Min: 0, Max: threeHundredDs, Help: "Recycle a worker this long after it started; 0 disables"},
	{Path: "recycling.periodicRestart.schedule", Kind: KindSchedule, Default: "", Help: "Local times of day at which workers are recycled"},

	{Path: "failure.loadBalancerCapabilities", Kind: KindEnum, Default: "HttpLevel", Values: []EnumValue{{"TcpLevel", 1}, {"HttpLevel", 2}}, Help: "HttpLevel answers 503 when the pool cannot serve; TcpLevel resets the connection"},
	{Path: "failure.orphanWorkerProcess", Kind: KindBool, Default: "false", Help: "Leave a hung worker running, detached, instead of killing it"},
	{Path: "failure.orphanActionExe", Kind: KindString, Default: "", Help: "Program run when a worker is orphaned"},
	{Path: "failure.orphanActionParams", Kind: KindString, Default: "", Help: "Its arguments; %1% becomes the worker's pid"},
	{Path: "failure.rapidFailProtection", Kind: KindBool, Default: "true", Help: "Stop the pool when workers fail rapidFailProtectionMaxCrashes times within the interval"},
	{Path: "failure.rapidFailProtectionInterval", Kind: KindTimeSpan, Default: "00:05:00", Min: 1, Max: hundredDays, Help: "Window in which worker failures are counted"},
	{Path: "failure.rapidFailProtectionMaxCrashes", Kind: KindUint, Default: "5", Min: 1, Max: maxInt32, Help: "Failures within the window that stop the pool"},
	{Path: "failure.autoShutdownExe", Kind: KindString, Default: "", Help: "Program run when rapid-fail protection stops the pool"},
	{Path: "failure.autoShutdownParams", Kind: KindString, Default: "", Help: "Its arguments"},

	{Path: "cpu.limit", Kind: KindUint, Default: "0", Min: 0, Max: 100000, Help: "CPU limit in 1/1000 of a percent of one CPU's time over resetInterval (50000 = 50%); 0 disables"},
	{Path: "cpu.action", Kind: KindEnum, Default: "NoAction", Values: enums("NoAction", "KillW3wp", "Throttle", "ThrottleUnderLoad"), Help: "At the limit: log an event, stop the workers for the interval, cap, or cap under contention"},
	{Path: "cpu.resetInterval", Kind: KindTimeSpan, Default: "00:05:00", Min: 0, Max: oneDay, Help: "The CPU accounting window"},
	{Path: "cpu.smpAffinitized", Kind: KindBool, Default: "false", Windows: true, Recycle: true, Help: "Windows only: bind workers to the CPUs of the masks"},
	{Path: "cpu.smpProcessorAffinityMask", Kind: KindUint, Default: "4294967295", Min: 1, Max: maxUint32, Windows: true, Recycle: true, Help: "Windows only: CPU mask, low 32 bits"},
	{Path: "cpu.smpProcessorAffinityMask2", Kind: KindUint, Default: "4294967295", Min: 1, Max: maxUint32, Windows: true, Recycle: true, Help: "Windows only: CPU mask, high 32 bits"},
	{Path: "cpu.processorGroup", Kind: KindUint, Default: "0", Min: 0, Max: maxInt32, Windows: true, Recycle: true, Help: "Windows only: processor group"},
	{Path: "cpu.numaNodeAssignment", Kind: KindEnum, Default: "MostAvailableMemory", Values: enums("MostAvailableMemory", "WindowsScheduling"), Windows: true, Recycle: true, Help: "Windows only: NUMA node choice"},
	{Path: "cpu.numaNodeAffinityMode", Kind: KindEnum, Default: "Soft", Values: enums("Soft", "Hard"), Windows: true, Recycle: true, Help: "Windows only: NUMA affinity"},

	{Path: "environmentVariables", Kind: KindEnvVars, Default: "", Recycle: true, Help: "Environment variables of the pool's workers"},
})

// RemovedPoolProperties are pool properties poolctl deliberately does not
// store, with the reason shown when someone sets one.
var RemovedPoolProperties = map[string]string{
	"processmodel.password": "poolctl never stores or prints a password: the host switches to the pool's identity without one (it runs as root, or as the identity itself)",
}
