package farm

import (
	"net/http"
	"strings"
)

// allowed reports whether a command may run: only the read routes that
// show what runs and the runtime verbs travel through etcd.
func allowed(method, path string) bool {
	path, _, _ = strings.Cut(path, "?")
	if !strings.HasPrefix(path, "/v1/") || strings.Contains(path, "//") || strings.Contains(path, "/.") {
		return false
	}
	parts := strings.Split(strings.TrimPrefix(path, "/v1/"), "/")
	switch method {
	case http.MethodGet:
		if len(parts) != 1 {
			return false
		}
		switch parts[0] {
		case "ping", "apppools", "workers", "requests", "sites", "status", "events":
			return true
		}
	case http.MethodPost:
		if len(parts) == 1 {
			return parts[0] == "reconcile"
		}
		if len(parts) == 3 && parts[0] == "apppools" && parts[1] != "" {
			switch parts[2] {
			case "start", "stop", "recycle":
				return true
			}
		}
	}
	return false
}
