package store

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestKindString(t *testing.T) {
	tests := []struct {
		k    Kind
		want string
		coll bool
	}{
		{KindString, "string", false},
		{KindBool, "bool", false},
		{KindUint, "uint", false},
		{KindEnum, "enum", false},
		{KindFlags, "flags", false},
		{KindTimeSpan, "timeSpan", false},
		{KindCommand, "command", false},
		{KindSchedule, "collection", true},
		{KindEnvVars, "collection", true},
		{KindBindings, "collection", true},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.k.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if got := tt.k.IsCollection(); got != tt.coll {
				t.Errorf("IsCollection() = %v, want %v", got, tt.coll)
			}
		})
	}
}

// parseCase is one Field.Parse check: want is the canonical text of the
// result (Format), or errSub a part of the error message.
type parseCase struct {
	path   string
	in     string
	want   string
	errSub string
}

func runParseCases(t *testing.T, tests []parseCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.path+"="+tt.in, func(t *testing.T) {
			f := PoolSchema.Field(tt.path)
			v, err := f.Parse(tt.in)
			if tt.errSub != "" {
				if err == nil {
					t.Fatalf("Parse(%q) = %v, want an error containing %q", tt.in, v, tt.errSub)
				}
				if !strings.Contains(err.Error(), tt.errSub) {
					t.Errorf("Parse(%q) error %q does not contain %q", tt.in, err, tt.errSub)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := f.Format(v); got != tt.want {
				t.Errorf("Format(Parse(%q)) = %q, want %q", tt.in, got, tt.want)
			}
			if err := f.Validate(v); err != nil {
				t.Errorf("Validate(Parse(%q)): %v", tt.in, err)
			}
			// The canonical text parses to the same value.
			again, err := f.Parse(f.Format(v))
			if err != nil || !f.Equal(again, v) {
				t.Errorf("Parse(Format(v)) = %v, %v; want %v", again, err, v)
			}
		})
	}
}

func TestFieldParseBool(t *testing.T) {
	runParseCases(t, []parseCase{
		{path: "autoStart", in: "true", want: "true"},
		{path: "autoStart", in: "TRUE", want: "true"},
		{path: "autoStart", in: "True", want: "true"},
		{path: "autoStart", in: "tRuE", want: "true"},
		{path: "autoStart", in: " false ", want: "false"},
		{path: "autoStart", in: "FALSE", want: "false"},
		{path: "autoStart", in: "False", want: "false"},
		{path: "autoStart", in: "yes", errSub: "expected true or false"},
		{path: "autoStart", in: "", errSub: "not a boolean"},
		{path: "autoStart", in: "on", errSub: "not a boolean"},
	})
}

func TestFieldParseUint(t *testing.T) {
	runParseCases(t, []parseCase{
		{path: "queueLength", in: "10", want: "10"},
		{path: "queueLength", in: "1000", want: "1000"},
		{path: "queueLength", in: " 4000 ", want: "4000"},
		{path: "queueLength", in: "65535", want: "65535"},
		{path: "queueLength", in: "9", errSub: "expected 10 to 65535"},
		{path: "queueLength", in: "0", errSub: "out of range"},
		{path: "queueLength", in: "65536", errSub: "expected 10 to 65535"},
		{path: "queueLength", in: "-1", errSub: "not a whole number"},
		{path: "queueLength", in: "1e3", errSub: "10-65535"},
		{path: "queueLength", in: "", errSub: "not a whole number"},
		{path: "queueLength", in: "18446744073709551616", errSub: "not a whole number"},
		{path: "processModel.maxProcesses", in: "0", want: "0"},
		{path: "processModel.maxProcesses", in: "2147483647", want: "2147483647"},
		{path: "processModel.maxProcesses", in: "2147483648", errSub: "out of range"},
		{path: "recycling.periodicRestart.privateMemory", in: "4294967295", want: "4294967295"},
		{path: "recycling.periodicRestart.privateMemory", in: "4294967296", errSub: "out of range"},
		{path: "failure.rapidFailProtectionMaxCrashes", in: "0", errSub: "expected 1 to 2147483647"},
		{path: "cpu.limit", in: "100000", want: "100000"},
		{path: "cpu.limit", in: "100001", errSub: "out of range"},
	})
}

func TestFieldParseEnum(t *testing.T) {
	runParseCases(t, []parseCase{
		{path: "processModel.identityType", in: "ApplicationPoolIdentity", want: "ApplicationPoolIdentity"},
		{path: "processModel.identityType", in: "applicationpoolidentity", want: "ApplicationPoolIdentity"},
		{path: "processModel.identityType", in: "SPECIFICUSER", want: "SpecificUser"},
		{path: "processModel.identityType", in: " networkService ", want: "NetworkService"},
		{path: "processModel.identityType", in: "0", want: "LocalSystem"},
		{path: "processModel.identityType", in: "3", want: "SpecificUser"},
		{path: "processModel.identityType", in: "4", want: "ApplicationPoolIdentity"},
		{path: "processModel.identityType", in: "5", errSub: "expected one of LocalSystem, LocalService, NetworkService, SpecificUser, ApplicationPoolIdentity"},
		{path: "processModel.identityType", in: "Administrator", errSub: "not allowed"},
		{path: "processModel.identityType", in: "", errSub: "not allowed"},
		{path: "failure.loadBalancerCapabilities", in: "1", want: "TcpLevel"},
		{path: "failure.loadBalancerCapabilities", in: "2", want: "HttpLevel"},
		{path: "failure.loadBalancerCapabilities", in: "tcplevel", want: "TcpLevel"},
		{path: "failure.loadBalancerCapabilities", in: "0", errSub: "not allowed"},
		{path: "startMode", in: "alwaysrunning", want: "AlwaysRunning"},
		{path: "startMode", in: "1", want: "AlwaysRunning"},
		{path: "cpu.action", in: "throttleunderload", want: "ThrottleUnderLoad"},
		{path: "cpu.action", in: "3", want: "ThrottleUnderLoad"},
		{path: "managedRuntimeVersion", in: "", want: ""},
		{path: "managedRuntimeVersion", in: "V4.0", want: "v4.0"},
		{path: "managedRuntimeVersion", in: "2", want: "v2.0"},
		// Number 0 is the empty name, which is not reachable by number.
		{path: "managedRuntimeVersion", in: "0", errSub: `"", v1.1, v2.0, v4.0`},
		{path: "managedRuntimeVersion", in: "No Managed Code", errSub: "not allowed"},
	})
}

func TestFieldParseFlags(t *testing.T) {
	runParseCases(t, []parseCase{
		{path: "recycling.logEventOnRecycle", in: "Time,Requests", want: "Time,Requests"},
		{path: "recycling.logEventOnRecycle", in: "Requests,Time", want: "Time,Requests"},
		{path: "recycling.logEventOnRecycle", in: "requests, TIME ,memory", want: "Time,Requests,Memory"},
		{path: "recycling.logEventOnRecycle", in: "Time,Time", want: "Time"},
		{path: "recycling.logEventOnRecycle", in: "None", want: ""},
		{path: "recycling.logEventOnRecycle", in: "none", want: ""},
		{path: "recycling.logEventOnRecycle", in: "", want: ""},
		{path: "recycling.logEventOnRecycle", in: "None,Schedule", want: "Schedule"},
		{path: "recycling.logEventOnRecycle", in: ",,PrivateMemory,", want: "PrivateMemory"},
		{path: "recycling.logEventOnRecycle", in: "PrivateMemory,ConfigChange,OnDemand,IsapiUnhealthy,Memory,Schedule,Requests,Time",
			want: "Time,Requests,Schedule,Memory,IsapiUnhealthy,OnDemand,ConfigChange,PrivateMemory"},
		{path: "recycling.logEventOnRecycle", in: "Time,Bogus", errSub: `"Bogus" is not a flag of recycling.logEventOnRecycle`},
		{path: "recycling.logEventOnRecycle", in: "1", errSub: "not a flag"},
		{path: "processModel.logEventOnProcessModel", in: "idletimeout", want: "IdleTimeout"},
		{path: "processModel.logEventOnProcessModel", in: "None", want: ""},
	})
}

func TestFieldParseTimeSpan(t *testing.T) {
	runParseCases(t, []parseCase{
		{path: "processModel.idleTimeout", in: "0", want: "00:00:00"},
		{path: "processModel.idleTimeout", in: "20m", want: "00:20:00"},
		{path: "processModel.idleTimeout", in: "30.00:00:00", want: "30.00:00:00"},
		{path: "processModel.idleTimeout", in: "720h", want: "30.00:00:00"},
		{path: "processModel.idleTimeout", in: "30.00:00:01", errSub: "expected 00:00:00 to 30.00:00:00"},
		{path: "processModel.idleTimeout", in: "30.00:00:00.0000001", errSub: "out of range"},
		{path: "processModel.idleTimeout", in: "bogus", errSub: "[d.]hh:mm:ss"},
		{path: "processModel.shutdownTimeLimit", in: "1s", want: "00:00:01"},
		{path: "processModel.shutdownTimeLimit", in: "0", errSub: "expected 00:00:01 to 49.17:02:47"},
		{path: "processModel.shutdownTimeLimit", in: "00:00:00.5", errSub: "out of range"},
		{path: "processModel.shutdownTimeLimit", in: "4294967s", want: "49.17:02:47"},
		{path: "processModel.shutdownTimeLimit", in: "49.17:02:48", errSub: "out of range"},
		{path: "recycling.periodicRestart.time", in: "29:00:00", want: "1.05:00:00"},
		{path: "recycling.periodicRestart.time", in: "300.00:00:00", want: "300.00:00:00"},
		{path: "recycling.periodicRestart.time", in: "301.00:00:00", errSub: "out of range"},
		{path: "cpu.resetInterval", in: "1.00:00:00", want: "1.00:00:00"},
		{path: "cpu.resetInterval", in: "24:00:01", errSub: "out of range"},
		{path: "failure.rapidFailProtectionInterval", in: "100.00:00:00", want: "100.00:00:00"},
		{path: "failure.rapidFailProtectionInterval", in: "100.00:00:01", errSub: "out of range"},
	})
}

func TestFieldParseStringAndCommand(t *testing.T) {
	runParseCases(t, []parseCase{
		{path: "processModel.userName", in: " www-data ", want: " www-data "},
		{path: "processModel.userName", in: "", want: ""},
		{path: "processModel.command", in: "/usr/bin/python3 -m http.server 8000", want: "/usr/bin/python3 -m http.server 8000"},
		{path: "processModel.command", in: `node "my app.js"`, want: `node 'my app.js'`},
		{path: "processModel.command", in: `/bin/sh -c 'echo $PORT'`, want: `/bin/sh -c 'echo $PORT'`},
		{path: "processModel.command", in: "", want: ""},
		{path: "processModel.command", in: `python "unterminated`, errSub: "unterminated double quote"},
	})
	t.Run("command value", func(t *testing.T) {
		v, err := PoolSchema.Field("processModel.command").Parse(`a 'b c' d\ e`)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"a", "b c", "d e"}; !slices.Equal(v.([]string), want) {
			t.Errorf("Parse = %q, want %q", v, want)
		}
	})
}

func TestFieldParseCollection(t *testing.T) {
	for _, f := range []*Field{PoolSchema.Field("environmentVariables"), PoolSchema.Field("recycling.periodicRestart.schedule"), SiteSchema.Field("bindings")} {
		t.Run(f.Path, func(t *testing.T) {
			if _, err := f.Parse("x"); err == nil || !strings.Contains(err.Error(), "is a collection") {
				t.Errorf("Parse on a collection = %v, want 'is a collection'", err)
			}
		})
	}
}

func TestFieldValidate(t *testing.T) {
	tests := []struct {
		path   string
		v      any
		errSub string // "" means valid
	}{
		{"queueLength", uint64(10), ""},
		{"queueLength", uint64(9), "out of range"},
		{"queueLength", uint64(65536), "out of range"},
		{"processModel.maxProcesses", uint64(0), ""},
		{"processModel.identityType", "SpecificUser", ""},
		{"processModel.identityType", "specificuser", `must be written "SpecificUser"`},
		{"processModel.identityType", "3", `must be written "SpecificUser"`},
		{"processModel.identityType", "Nobody", "not allowed"},
		{"managedRuntimeVersion", "", ""},
		{"recycling.logEventOnRecycle", "Time,Requests", ""},
		{"recycling.logEventOnRecycle", "", ""},
		{"recycling.logEventOnRecycle", "Requests,Time", `must be written "Time,Requests"`},
		{"recycling.logEventOnRecycle", "None", `must be written ""`},
		{"recycling.logEventOnRecycle", "Time, Requests", `must be written "Time,Requests"`},
		{"recycling.logEventOnRecycle", "Sometimes", "not a flag"},
		{"processModel.idleTimeout", TimeSpan(30 * 24 * time.Hour), ""},
		{"processModel.idleTimeout", TimeSpan(30*24*time.Hour + 1), "out of range"},
		{"processModel.pingInterval", TimeSpan(0), "out of range"},
		{"processModel.command", []string{}, ""},
		{"processModel.command", []string{"/bin/true"}, ""},
		{"processModel.command", []string{"", "x"}, "program name is empty"},
		{"recycling.periodicRestart.schedule", []TimeSpan{TimeSpan(3 * time.Hour)}, ""},
		{"recycling.periodicRestart.schedule", []TimeSpan{TimeSpan(24 * time.Hour)}, "not a time of day"},
		{"recycling.periodicRestart.schedule", []TimeSpan{TimeSpan(3 * time.Hour), TimeSpan(3 * time.Hour)}, "twice"},
		{"environmentVariables", []EnvironmentVariable{{"A", "1"}}, ""},
		{"environmentVariables", []EnvironmentVariable{{"A=B", "1"}}, "without '='"},
		{"environmentVariables", []EnvironmentVariable{{"A", "1"}, {"A", "2"}}, "twice"},
		{"environmentVariables", []EnvironmentVariable{{"A", "x\x00y"}}, "NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.path+"="+PoolSchema.Field(tt.path).Format(tt.v), func(t *testing.T) {
			err := PoolSchema.Field(tt.path).Validate(tt.v)
			switch {
			case tt.errSub == "" && err != nil:
				t.Errorf("Validate(%v): %v", tt.v, err)
			case tt.errSub != "" && err == nil:
				t.Errorf("Validate(%v) = nil, want an error containing %q", tt.v, tt.errSub)
			case tt.errSub != "" && !strings.Contains(err.Error(), tt.errSub):
				t.Errorf("Validate(%v) = %q, want it to contain %q", tt.v, err, tt.errSub)
			}
		})
	}
}

func TestFieldFormat(t *testing.T) {
	f := &Field{}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"nil", nil, ""},
		{"string", "x y", "x y"},
		{"bool", false, "false"},
		{"uint", uint64(42), "42"},
		{"timeSpan", TimeSpan(29 * time.Hour), "1.05:00:00"},
		{"command", []string{"a", "b c", ""}, "a 'b c' ''"},
		{"schedule", []TimeSpan{TimeSpan(3 * time.Hour), TimeSpan(15*time.Hour + 30*time.Minute)}, "03:00:00,15:30:00"},
		{"empty schedule", []TimeSpan{}, ""},
		{"envVars", []EnvironmentVariable{{"A", "1"}, {"B", ""}}, "A=1,B="},
		{"bindings", []Binding{{Protocol: "http", BindingInformation: "*:80:"}, {Protocol: "https", BindingInformation: "[::1]:443:x"}}, "http/*:80:,https/[::1]:443:x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := f.Format(tt.v); got != tt.want {
				t.Errorf("Format(%#v) = %q, want %q", tt.v, got, tt.want)
			}
		})
	}
}

func TestFieldRange(t *testing.T) {
	tests := []struct {
		f    *Field
		want string
	}{
		{PoolSchema.Field("autoStart"), "true|false"},
		{PoolSchema.Field("queueLength"), "10-65535"},
		{PoolSchema.Field("startMode"), "OnDemand|AlwaysRunning"},
		{PoolSchema.Field("managedRuntimeVersion"), `""|v1.1|v2.0|v4.0`},
		{PoolSchema.Field("processModel.logEventOnProcessModel"), "comma-separated: IdleTimeout"},
		{PoolSchema.Field("processModel.idleTimeout"), "00:00:00-30.00:00:00"},
		{PoolSchema.Field("recycling.periodicRestart.schedule"), "[value='hh:mm:ss']"},
		{PoolSchema.Field("environmentVariables"), "[name='N',value='V']"},
		{SiteSchema.Field("bindings"), "[protocol='http',bindingInformation='ip:port:host']"},
		{PoolSchema.Field("processModel.command"), "program and arguments"},
		{PoolSchema.Field("processModel.userName"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.f.Path, func(t *testing.T) {
			if got := tt.f.Range(); got != tt.want {
				t.Errorf("Range() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFieldEnvName(t *testing.T) {
	tests := []struct{ path, want string }{
		{"enable32BitAppOnWin64", "POOLCTL_IIS_ENABLE32BITAPPONWIN64"},
		{"processModel.loadUserProfile", "POOLCTL_IIS_PROCESSMODEL_LOADUSERPROFILE"},
		{"cpu.smpProcessorAffinityMask2", "POOLCTL_IIS_CPU_SMPPROCESSORAFFINITYMASK2"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := PoolSchema.Field(tt.path).EnvName(); got != tt.want {
				t.Errorf("EnvName() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFieldDefaultValue(t *testing.T) {
	tests := []struct{ path, want string }{
		{"queueLength", "1000"},
		{"autoStart", "true"},
		{"managedRuntimeVersion", ""},
		{"processModel.identityType", "ApplicationPoolIdentity"},
		{"processModel.idleTimeout", "00:20:00"},
		{"processModel.command", ""},
		{"recycling.periodicRestart.time", "1.05:00:00"},
		{"recycling.logEventOnRecycle", "Time,Requests,Schedule,Memory,IsapiUnhealthy,OnDemand,ConfigChange,PrivateMemory"},
		{"failure.loadBalancerCapabilities", "HttpLevel"},
		{"cpu.smpProcessorAffinityMask", "4294967295"},
		{"recycling.periodicRestart.schedule", ""},
		{"environmentVariables", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			f := PoolSchema.Field(tt.path)
			v := f.DefaultValue()
			if v == nil {
				t.Fatal("DefaultValue() = nil")
			}
			if got := f.Format(v); got != tt.want {
				t.Errorf("Format(DefaultValue()) = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSchemaLookup(t *testing.T) {
	tests := []struct {
		path string
		want string // "" means not found
	}{
		{"queueLength", "queueLength"},
		{"QUEUELENGTH", "queueLength"},
		{"processmodel.idletimeout", "processModel.idleTimeout"},
		{"clrconfigfile", "CLRConfigFile"},
		{"processModel", ""},
		{"processModel.password", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			f, ok := PoolSchema.Lookup(tt.path)
			if ok != (tt.want != "") {
				t.Fatalf("Lookup(%q) ok = %v", tt.path, ok)
			}
			if ok && f.Path != tt.want {
				t.Errorf("Lookup(%q) = %s, want %s", tt.path, f.Path, tt.want)
			}
		})
	}
}

func TestFieldGetSetClear(t *testing.T) {
	f := PoolSchema.Field("recycling.periodicRestart.requests")
	var ps PoolSettings
	if v, ok := f.Get(&ps); ok {
		t.Fatalf("Get on empty settings = %v, true", v)
	}
	f.Set(&ps, uint64(500))
	if ps.Recycling == nil || ps.Recycling.PeriodicRestart == nil || *ps.Recycling.PeriodicRestart.Requests != 500 {
		t.Fatalf("Set did not allocate the path: %+v", ps.Recycling)
	}
	if v, ok := f.Get(&ps); !ok || v != uint64(500) {
		t.Errorf("Get = %v, %v; want 500, true", v, ok)
	}
	// Slices are copied both ways: the caller cannot alias the store.
	cmd := PoolSchema.Field("processModel.command")
	in := []string{"a", "b"}
	cmd.Set(&ps, in)
	in[0] = "changed"
	got, _ := cmd.Get(&ps)
	if got.([]string)[0] != "a" {
		t.Errorf("Set aliased the caller's slice: %q", got)
	}
	got.([]string)[1] = "changed"
	again, _ := cmd.Get(&ps)
	if again.([]string)[1] != "b" {
		t.Errorf("Get returned an alias of the stored slice: %q", again)
	}
	f.Clear(&ps)
	if ps.Recycling != nil {
		t.Errorf("Clear left an empty recycling section: %+v", ps.Recycling)
	}
	if ps.ProcessModel == nil {
		t.Errorf("Clear removed processModel, which still holds command")
	}
	// Clearing under a missing section is a no-op.
	PoolSchema.Field("cpu.limit").Clear(&ps)
	if ps.CPU != nil {
		t.Errorf("Clear allocated cpu")
	}
}
