package store

// Config is the whole store. Pointer fields are unset (inherited or
// defaulted) when nil; only set values are written to the file.
type Config struct {
	// Version is the store format version; see FormatVersion.
	Version int `toml:"version"`
	// storeVersion is VersionOf the bytes this configuration was loaded
	// from or written as (version.go).
	storeVersion string
	// ConfigHistory says how many history snapshots are kept.
	ConfigHistory ConfigHistory `toml:"configHistory"`
	// ApplicationPoolDefaults holds values every pool inherits unless it
	// sets its own.
	ApplicationPoolDefaults PoolSettings `toml:"applicationPoolDefaults"`
	// ApplicationPools are the pools, in the order they were added.
	ApplicationPools []AppPool `toml:"applicationPools"`
	// Host holds host-wide settings: isolation mode and metrics.
	// Host is nil until a host setting is set.
	Host *HostSettings `toml:"host,omitempty"`
	// Sites are the web sites, in the order they were added.
	Sites []Site `toml:"sites"`
}

// HostSettings are the settings of the host as a whole (the webServer
// level of IIS): the isolation mode and the metrics endpoint.
type HostSettings struct {
	IsolationMode  *string `toml:"isolationMode,omitempty"`
	MetricsAddress *string `toml:"metricsAddress,omitempty"`
	// ErrorMode is IIS's httpErrors errorMode: who sees the detail of the
	// front's error pages.
	ErrorMode *string `toml:"errorMode,omitempty"`
	// MaxConnections caps client connections host-wide; 0 is automatic.
	MaxConnections *uint64 `toml:"maxConnections,omitempty"`
	// MaxConnectionsPerClient caps the connections of one client address;
	// 0 is unlimited.
	MaxConnectionsPerClient *uint64 `toml:"maxConnectionsPerClient,omitempty"`
}

// FormatVersion is the store format this build reads and writes.
const FormatVersion = 1

// ConfigHistory configures the snapshots kept before each write (IIS
// configHistory).
type ConfigHistory struct {
	Enabled      *bool   `toml:"enabled,omitempty"`
	MaxHistories *uint64 `toml:"maxHistories,omitempty"`
	Path         *string `toml:"path,omitempty"`
}

// AppPool is one application pool: its name and the settings it sets itself.
type AppPool struct {
	Name string `toml:"name"`
	PoolSettings
}

// PoolSettings are the settings of a pool, or of applicationPoolDefaults.
// The field set mirrors IIS's <add> element of applicationPools; every field
// has one row in PoolSchema.
type PoolSettings struct {
	QueueLength                 *uint64                `toml:"queueLength,omitempty"`
	AutoStart                   *bool                  `toml:"autoStart,omitempty"`
	Enable32BitAppOnWin64       *bool                  `toml:"enable32BitAppOnWin64,omitempty"`
	ManagedRuntimeVersion       *string                `toml:"managedRuntimeVersion,omitempty"`
	ManagedRuntimeLoader        *string                `toml:"managedRuntimeLoader,omitempty"`
	EnableConfigurationOverride *bool                  `toml:"enableConfigurationOverride,omitempty"`
	ManagedPipelineMode         *string                `toml:"managedPipelineMode,omitempty"`
	CLRConfigFile               *string                `toml:"CLRConfigFile,omitempty"`
	PassAnonymousToken          *bool                  `toml:"passAnonymousToken,omitempty"`
	StartMode                   *string                `toml:"startMode,omitempty"`
	ProcessModel                *ProcessModel          `toml:"processModel,omitempty"`
	Recycling                   *Recycling             `toml:"recycling,omitempty"`
	Failure                     *Failure               `toml:"failure,omitempty"`
	CPU                         *CPU                   `toml:"cpu,omitempty"`
	EnvironmentVariables        *[]EnvironmentVariable `toml:"environmentVariables,omitempty"`
}

// ProcessModel is how a pool's workers run: identity, counts, time limits,
// health checks, and poolctl's own worker command settings.
type ProcessModel struct {
	IdentityType           *string   `toml:"identityType,omitempty"`
	UserName               *string   `toml:"userName,omitempty"`
	LoadUserProfile        *bool     `toml:"loadUserProfile,omitempty"`
	SetProfileEnvironment  *bool     `toml:"setProfileEnvironment,omitempty"`
	LogonType              *string   `toml:"logonType,omitempty"`
	ManualGroupMembership  *bool     `toml:"manualGroupMembership,omitempty"`
	IdleTimeout            *TimeSpan `toml:"idleTimeout,omitempty"`
	IdleTimeoutAction      *string   `toml:"idleTimeoutAction,omitempty"`
	MaxProcesses           *uint64   `toml:"maxProcesses,omitempty"`
	ShutdownTimeLimit      *TimeSpan `toml:"shutdownTimeLimit,omitempty"`
	StartupTimeLimit       *TimeSpan `toml:"startupTimeLimit,omitempty"`
	PingingEnabled         *bool     `toml:"pingingEnabled,omitempty"`
	PingInterval           *TimeSpan `toml:"pingInterval,omitempty"`
	PingResponseTime       *TimeSpan `toml:"pingResponseTime,omitempty"`
	LogEventOnProcessModel *string   `toml:"logEventOnProcessModel,omitempty"`
	Command                *[]string `toml:"command,omitempty"`
	WorkingDirectory       *string   `toml:"workingDirectory,omitempty"`
	PingPath               *string   `toml:"pingPath,omitempty"`
	MaxConcurrentRequests  *uint64   `toml:"maxConcurrentRequests,omitempty"`
	Listen                 *string   `toml:"listen,omitempty"`
}

// Recycling says when and how a pool's workers are replaced.
type Recycling struct {
	DisallowOverlappingRotation    *bool            `toml:"disallowOverlappingRotation,omitempty"`
	DisallowRotationOnConfigChange *bool            `toml:"disallowRotationOnConfigChange,omitempty"`
	LogEventOnRecycle              *string          `toml:"logEventOnRecycle,omitempty"`
	PeriodicRestart                *PeriodicRestart `toml:"periodicRestart,omitempty"`
}

// PeriodicRestart holds the recycling triggers of one worker.
type PeriodicRestart struct {
	Memory        *uint64     `toml:"memory,omitempty"`
	PrivateMemory *uint64     `toml:"privateMemory,omitempty"`
	Requests      *uint64     `toml:"requests,omitempty"`
	Time          *TimeSpan   `toml:"time,omitempty"`
	Schedule      *[]TimeSpan `toml:"schedule,omitempty"`
}

// Failure holds rapid-fail protection and orphaning settings.
type Failure struct {
	LoadBalancerCapabilities      *string   `toml:"loadBalancerCapabilities,omitempty"`
	OrphanWorkerProcess           *bool     `toml:"orphanWorkerProcess,omitempty"`
	OrphanActionExe               *string   `toml:"orphanActionExe,omitempty"`
	OrphanActionParams            *string   `toml:"orphanActionParams,omitempty"`
	RapidFailProtection           *bool     `toml:"rapidFailProtection,omitempty"`
	RapidFailProtectionInterval   *TimeSpan `toml:"rapidFailProtectionInterval,omitempty"`
	RapidFailProtectionMaxCrashes *uint64   `toml:"rapidFailProtectionMaxCrashes,omitempty"`
	AutoShutdownExe               *string   `toml:"autoShutdownExe,omitempty"`
	AutoShutdownParams            *string   `toml:"autoShutdownParams,omitempty"`
}

// CPU holds the pool's CPU limit and what to do when it is reached.
type CPU struct {
	Limit                     *uint64   `toml:"limit,omitempty"`
	Action                    *string   `toml:"action,omitempty"`
	ResetInterval             *TimeSpan `toml:"resetInterval,omitempty"`
	SmpAffinitized            *bool     `toml:"smpAffinitized,omitempty"`
	SmpProcessorAffinityMask  *uint64   `toml:"smpProcessorAffinityMask,omitempty"`
	SmpProcessorAffinityMask2 *uint64   `toml:"smpProcessorAffinityMask2,omitempty"`
	ProcessorGroup            *uint64   `toml:"processorGroup,omitempty"`
	NumaNodeAssignment        *string   `toml:"numaNodeAssignment,omitempty"`
	NumaNodeAffinityMode      *string   `toml:"numaNodeAffinityMode,omitempty"`
}

// EnvironmentVariable is one variable passed to a pool's workers.
type EnvironmentVariable struct {
	Name  string `toml:"name"`
	Value string `toml:"value"`
}

// Site is one web site: its bindings and applications.
type Site struct {
	Name            string        `toml:"name"`
	ID              uint64        `toml:"id"`
	ServerAutoStart *bool         `toml:"serverAutoStart,omitempty"`
	LogFile         *SiteLogFile  `toml:"logFile,omitempty"`
	Limits          *SiteLimits   `toml:"limits,omitempty"`
	Bindings        []Binding     `toml:"bindings"`
	Applications    []Application `toml:"applications" schema:"-"`
}

// SiteLogFile is how a site's access log is written (IIS's
// site/logFile element): format, directory and rotation.
type SiteLogFile struct {
	Enabled      *bool   `toml:"enabled,omitempty"`
	LogFormat    *string `toml:"logFormat,omitempty"`
	Directory    *string `toml:"directory,omitempty"`
	Period       *string `toml:"period,omitempty"`
	TruncateSize *uint64 `toml:"truncateSize,omitempty"`
	Keep         *uint64 `toml:"keep,omitempty"`
}

// SiteLimits are a site's connection limits (IIS's site/limits element,
// with minBytesPerSecond from webLimits).
type SiteLimits struct {
	ConnectionTimeout *TimeSpan `toml:"connectionTimeout,omitempty"`
	MinBytesPerSecond *uint64   `toml:"minBytesPerSecond,omitempty"`
	MaxConnections    *uint64   `toml:"maxConnections,omitempty"`
}

// Binding is where a site listens: protocol and "ip:port:host", plus the
// certificate and key files of an https binding.
type Binding struct {
	Protocol           string `toml:"protocol"`
	BindingInformation string `toml:"bindingInformation"`
	CertificateFile    string `toml:"certificateFile,omitempty"`
	KeyFile            string `toml:"keyFile,omitempty"`
}

// Application is a URL path of a site served by one pool. PhysicalPath is
// its root virtual directory.
type Application struct {
	Path               string             `toml:"path"`
	ApplicationPool    string             `toml:"applicationPool"`
	PhysicalPath       string             `toml:"physicalPath"`
	AppIsolation       *string            `toml:"appIsolation,omitempty"`
	VirtualDirectories []VirtualDirectory `toml:"virtualDirectories,omitempty" schema:"-"`
}

// VirtualDirectory maps a path below an application to a directory.
type VirtualDirectory struct {
	Path         string `toml:"path"`
	PhysicalPath string `toml:"physicalPath"`
}
