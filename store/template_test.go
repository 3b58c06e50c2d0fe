package store

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPoolsTemplateRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		pools []AppPool
	}{
		{"bare pool", []AppPool{{Name: "Bare"}}},
		{"settings", []AppPool{{Name: "Marketing", PoolSettings: PoolSettings{
			QueueLength: ptr(uint64(4000)),
			StartMode:   ptr("AlwaysRunning"),
			ProcessModel: &ProcessModel{IdentityType: ptr("SpecificUser"), UserName: ptr("web"),
				IdleTimeout: ptr(TimeSpan(29 * time.Hour / 10)), Command: ptr([]string{"/bin/app", "--x", "a b"})},
			Recycling:            &Recycling{PeriodicRestart: &PeriodicRestart{Schedule: ptr([]TimeSpan{hms(3, 0, 0), hms(4, 0, 0)})}},
			CPU:                  &CPU{Limit: ptr(uint64(50000)), Action: ptr("Throttle")},
			EnvironmentVariables: ptr([]EnvironmentVariable{{"A", "1"}, {"B", "two words"}}),
		}}}},
		{"several pools", []AppPool{
			{Name: "One", PoolSettings: PoolSettings{AutoStart: ptr(false)}},
			{Name: "Two", PoolSettings: PoolSettings{Failure: &Failure{LoadBalancerCapabilities: ptr("TcpLevel")}}},
			{Name: "Three"},
		}},
		{"empty sections dropped", []AppPool{{Name: "E", PoolSettings: PoolSettings{ProcessModel: &ProcessModel{}, Recycling: &Recycling{PeriodicRestart: &PeriodicRestart{}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := MarshalPools(tt.pools)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(data), "version") {
				t.Errorf("a template has no version:\n%s", data)
			}
			if n := strings.Count(string(data), "[[applicationPools]]"); n != len(tt.pools) {
				t.Errorf("%d [[applicationPools]] tables, want %d:\n%s", n, len(tt.pools), data)
			}
			back, err := UnmarshalPools(data)
			if err != nil {
				t.Fatalf("UnmarshalPools: %v\n%s", err, data)
			}
			if len(back) != len(tt.pools) {
				t.Fatalf("%d pools came back, want %d", len(back), len(tt.pools))
			}
			for i := range back {
				if back[i].Name != tt.pools[i].Name {
					t.Errorf("pool %d name %q, want %q", i, back[i].Name, tt.pools[i].Name)
				}
				for j := range PoolSchema.Fields {
					f := &PoolSchema.Fields[j]
					want, wok := f.Get(&tt.pools[i].PoolSettings)
					got, gok := f.Get(&back[i].PoolSettings)
					if wok != gok || wok && !f.Equal(want, got) {
						t.Errorf("pool %q %s: %q (%v) came back as %q (%v)", tt.pools[i].Name, f.Path, f.Format(want), wok, f.Format(got), gok)
					}
				}
			}
			again, err := MarshalPools(back)
			if err != nil || !bytes.Equal(again, data) {
				t.Errorf("MarshalPools(UnmarshalPools) differs (%v):\n%s\n---\n%s", err, data, again)
			}
			if strings.Contains(string(data), "processModel") && tt.name == "empty sections dropped" {
				t.Errorf("empty section written:\n%s", data)
			}
		})
	}
}

func TestMarshalPoolsDoesNotChangeInput(t *testing.T) {
	pools := []AppPool{{Name: "E", PoolSettings: PoolSettings{Recycling: &Recycling{PeriodicRestart: &PeriodicRestart{}}}}}
	if _, err := MarshalPools(pools); err != nil {
		t.Fatal(err)
	}
	if pools[0].Recycling == nil || pools[0].Recycling.PeriodicRestart == nil {
		t.Errorf("MarshalPools pruned its input: %+v", pools[0].Recycling)
	}
}

func TestUnmarshalPoolsErrors(t *testing.T) {
	tests := []struct {
		name   string
		data   string
		errSub []string
	}{
		{"empty", "", []string{"no [[applicationPools]] table"}},
		{"comment only", "# nothing\n", []string{"no [[applicationPools]] table"}},
		{"empty list", "applicationPools = []\n", []string{"no [[applicationPools]] table"}},
		{"syntax", "[[applicationPools]\nname = \"x\"\n", []string{"template"}},
		{"unknown key", "[[applicationPools]]\nname = \"P\"\nqueueLenght = 10\n", []string{"unknown key", "queueLenght"}},
		{"unknown top-level key", "version = 1\n[[applicationPools]]\nname = \"P\"\n", []string{"unknown key version"}},
		{"out of range", "[[applicationPools]]\nname = \"Ok\"\n\n[[applicationPools]]\nname = \"Marketing\"\nqueueLength = 5\n",
			[]string{`apppool "Marketing": queueLength`, "expected 10 to 65535"}},
		{"enum not canonical", "[[applicationPools]]\nname = \"Marketing\"\n[applicationPools.processModel]\nidentityType = \"localsystem\"\n",
			[]string{`apppool "Marketing": processModel.identityType`, `must be written "LocalSystem"`}},
		{"bad flags", "[[applicationPools]]\nname = \"Marketing\"\n[applicationPools.recycling]\nlogEventOnRecycle = \"Time,Never\"\n",
			[]string{`apppool "Marketing": recycling.logEventOnRecycle`, "Never"}},
		{"time span out of range", "[[applicationPools]]\nname = \"Marketing\"\n[applicationPools.processModel]\npingInterval = \"0\"\n",
			[]string{`apppool "Marketing": processModel.pingInterval`, "out of range"}},
		{"bad time span", "[[applicationPools]]\nname = \"Marketing\"\n[applicationPools.processModel]\npingInterval = \"often\"\n",
			[]string{"often"}},
		{"duplicate env var", "[[applicationPools]]\nname = \"Marketing\"\n[[applicationPools.environmentVariables]]\nname = \"A\"\nvalue = \"1\"\n[[applicationPools.environmentVariables]]\nname = \"A\"\nvalue = \"2\"\n",
			[]string{`apppool "Marketing": environmentVariables`, "twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pools, err := UnmarshalPools([]byte(tt.data))
			if err == nil {
				t.Fatalf("UnmarshalPools = %+v, want an error", pools)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			for _, s := range tt.errSub {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}
