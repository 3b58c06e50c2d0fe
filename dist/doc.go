// Package dist holds no code: its directory ships files for operators
// (systemd units, the Grafana dashboard grafana/poolctl.json, the
// Prometheus alerting rules prometheus/poolctl-rules.yml), and its tests
// check that the dashboard and the rules name only metrics poolctl exports
// and that promtool accepts the rules.
package dist
