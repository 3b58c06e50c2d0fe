package store

import (
	"fmt"
	"testing"
	"time"
)

// encBenchConfig builds a store of n pools, the default site and one site
// per 100 pools. Every third pool sets a few properties: queueLength,
// processModel.idleTimeout, an environment variable and a recycling
// schedule, as a busy real store would.
func encBenchConfig(n int) *Config {
	c := &Config{
		Version:          FormatVersion,
		ApplicationPools: make([]AppPool, 0, n),
	}
	for i := range n {
		p := AppPool{Name: fmt.Sprintf("Pool%05d", i)}
		if i%3 == 0 {
			q := uint64(1000 + i%5000)
			idle := TimeSpan(time.Duration(10+i%50) * time.Minute)
			sched := []TimeSpan{TimeSpan(3 * time.Hour), TimeSpan(15*time.Hour + 30*time.Minute)}
			env := []EnvironmentVariable{{Name: "APP_ENV", Value: fmt.Sprintf("production-%d", i)}}
			p.QueueLength = &q
			p.ProcessModel = &ProcessModel{IdleTimeout: &idle}
			p.Recycling = &Recycling{PeriodicRestart: &PeriodicRestart{Schedule: &sched}}
			p.EnvironmentVariables = &env
		}
		c.ApplicationPools = append(c.ApplicationPools, p)
	}
	c.Sites = append(c.Sites, Site{
		Name: DefaultSiteName, ID: 1,
		Bindings:     []Binding{{Protocol: "http", BindingInformation: "*:8080:"}},
		Applications: []Application{{Path: "/", ApplicationPool: c.ApplicationPools[0].Name, PhysicalPath: "/var/lib/poolctl/wwwroot"}},
	})
	for i := 100; i < n; i += 100 {
		c.Sites = append(c.Sites, Site{
			Name: fmt.Sprintf("Site%05d", i), ID: uint64(i + 1),
			Bindings: []Binding{{Protocol: "http", BindingInformation: fmt.Sprintf("*:%d:", 10000+i)}},
			Applications: []Application{
				{Path: "/", ApplicationPool: c.ApplicationPools[i].Name, PhysicalPath: fmt.Sprintf("/srv/site%d", i)},
				{Path: "/api", ApplicationPool: c.ApplicationPools[i+1].Name, PhysicalPath: fmt.Sprintf("/srv/site%d/api", i),
					VirtualDirectories: []VirtualDirectory{{Path: "/static", PhysicalPath: "/srv/static"}}},
			},
		})
	}
	return c
}

// BenchmarkMarshal measures Marshal, the encoder every mutation runs, on
// stores of 10, 1,000 and 10,000 pools.
func BenchmarkMarshal(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		c := encBenchConfig(n)
		b.Run(fmt.Sprintf("pools=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for b.Loop() {
				data, err := Marshal(c)
				if err != nil {
					b.Fatal(err)
				}
				size = len(data)
			}
			b.SetBytes(int64(size))
		})
	}
}

// BenchmarkUnmarshal is the decoding side of a mutation, for comparison:
// Unmarshal (a canonical store takes the fast path, decode.go) beside
// BurntSushi's decoding of the same bytes (unmarshalTOML).
func BenchmarkUnmarshal(b *testing.B) {
	decoders := []struct {
		name   string
		decode func([]byte) (*Config, error)
	}{{"unmarshal", Unmarshal}, {"toml", unmarshalTOML}}
	for _, n := range []int{10, 1000, 10000} {
		data, err := Marshal(encBenchConfig(n))
		if err != nil {
			b.Fatal(err)
		}
		for _, d := range decoders {
			b.Run(fmt.Sprintf("pools=%d/decoder=%s", n, d.name), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					if _, err := d.decode(data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
