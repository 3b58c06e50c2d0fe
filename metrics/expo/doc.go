// Package expo writes metrics in the Prometheus text exposition format
// (version 0.0.4) with the standard library only, and collects the Go
// runtime's (go_*) and the process's (process_*) metrics under the names,
// types, help texts and labels Prometheus's Go client uses. It replaces
// client_golang, whose package initialisation every poolctl command paid.
package expo
