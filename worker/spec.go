package worker

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// SpecEnv is the environment variable carrying the JSON Spec.
const SpecEnv = "POOLCTL_WORKER_SPEC"

// Environment variables of the worker contract besides SpecEnv.
const (
	// PortEnv is the loopback port to listen on.
	PortEnv = "PORT"
	// ListenEnv is the full listen address: 127.0.0.1:PORT, or the
	// absolute path of a unix socket (processModel.listen unix, where
	// PortEnv is not set; "unix:/path" is accepted too); it wins over
	// PortEnv when both are set.
	ListenEnv = "POOLCTL_LISTEN"
	// AppPoolEnv names the pool; CGI scripts see it (and IIS's APP_POOL_ID).
	AppPoolEnv = "POOLCTL_APPPOOL"
	// WorkerIDEnv identifies the worker within its pool.
	WorkerIDEnv = "POOLCTL_WORKER_ID"
	// ListenFDEnv is the number of an inherited file descriptor holding a
	// listening socket the host bound for the worker (on PORT); it wins
	// over ListenEnv and PortEnv, which still say where it listens.
	ListenFDEnv = "POOLCTL_LISTEN_FD"
)

// unixPrefix marks a listen address that is a unix socket path; fdPrefix
// one that is an inherited listening socket ("fd:3").
const (
	unixPrefix = "unix:"
	fdPrefix   = "fd:"
)

// Spec is what the built-in worker serves: the pool's applications, the
// default documents tried for a directory, in order, and the file
// extensions that run as CGI.
type Spec struct {
	Applications     []App    `json:"applications"`
	DefaultDocuments []string `json:"defaultDocuments"`
	CGIExtensions    []string `json:"cgiExtensions"`
}

// App is one application of the pool: its site (for logs), its URL path,
// its physical path (the root of the application) and its virtual
// directories, whose paths are relative to the application.
type App struct {
	Site               string             `json:"site"`
	Path               string             `json:"path"`
	PhysicalPath       string             `json:"physicalPath"`
	VirtualDirectories []VirtualDirectory `json:"virtualDirectories"`
}

// VirtualDirectory maps a URL path below its application to a directory.
// A virtual directory with path "/" replaces the application's physical
// path.
type VirtualDirectory struct {
	Path         string `json:"path"`
	PhysicalPath string `json:"physicalPath"`
}

// Validate reports the first problem that stops the spec from being served
// at all: URL paths must be clean and start with "/", default documents
// must be plain file names and CGI extensions non-empty names without "/".
// Physical paths are not checked here: an application or virtual directory
// whose physical path is empty or relative answers 500 (and is logged)
// while the rest of the pool is served, as IIS fails only the application
// that is misconfigured. An empty list of applications is valid (a pool
// without applications answers 404).
func (s Spec) Validate() error {
	for i, a := range s.Applications {
		name := fmt.Sprintf("application %d (%s%s)", i, a.Site, a.Path)
		if err := checkURLPath(a.Path); err != nil {
			return fmt.Errorf("%s: path: %w", name, err)
		}
		for j, v := range a.VirtualDirectories {
			if err := checkURLPath(v.Path); err != nil {
				return fmt.Errorf("%s: virtual directory %d: path: %w", name, j, err)
			}
		}
	}
	for _, d := range s.DefaultDocuments {
		if d == "" || d == "." || d == ".." || strings.ContainsAny(d, "/\\\x00") {
			return fmt.Errorf("default document %q: must be a plain file name", d)
		}
	}
	for _, e := range s.CGIExtensions {
		if strings.Trim(e, ".") == "" || strings.ContainsAny(e, "/\\\x00") {
			return fmt.Errorf("CGI extension %q: must be a name such as .cgi", e)
		}
	}
	return nil
}

func checkURLPath(p string) error {
	switch {
	case !strings.HasPrefix(p, "/"):
		return fmt.Errorf("%q does not start with /", p)
	case strings.ContainsAny(p, "\\\x00"):
		return fmt.Errorf("%q contains a backslash or NUL", p)
	case path.Clean(p) != strings.TrimSuffix(p, "/") && p != "/":
		return fmt.Errorf("%q is not a clean path", p)
	}
	return nil
}

func checkPhysical(p string) error {
	switch {
	case p == "":
		return errors.New("empty")
	case !filepath.IsAbs(p):
		return fmt.Errorf("%q is not absolute", p)
	case strings.ContainsRune(p, 0):
		return fmt.Errorf("%q contains NUL", p)
	}
	return nil
}

// FromEnv reads the listen address (fd:N for an inherited socket in
// POOLCTL_LISTEN_FD, else POOLCTL_LISTEN, where a path is returned as
// unix:/path, else 127.0.0.1:$PORT)
// and the Spec (POOLCTL_WORKER_SPEC) through getenv, usually os.Getenv.
// Errors name the variable that is missing or invalid.
func FromEnv(getenv func(string) string) (addr string, spec Spec, err error) {
	addr, err = listenFromEnv(getenv)
	if err != nil {
		return "", Spec{}, err
	}
	raw := getenv(SpecEnv)
	if strings.TrimSpace(raw) == "" {
		return "", Spec{}, fmt.Errorf("%s is not set: the built-in worker needs the JSON description of what to serve (the host sets it)", SpecEnv)
	}
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return "", Spec{}, fmt.Errorf("%s is not a valid worker spec: %w", SpecEnv, err)
	}
	if err := spec.Validate(); err != nil {
		return "", Spec{}, fmt.Errorf("%s: %w", SpecEnv, err)
	}
	return addr, spec, nil
}

func listenFromEnv(getenv func(string) string) (string, error) {
	port, listen := getenv(PortEnv), getenv(ListenEnv)
	if fd := getenv(ListenFDEnv); fd != "" {
		n, err := strconv.Atoi(fd)
		if err != nil || n < 3 {
			return "", fmt.Errorf("%s=%q is not an inherited file descriptor (3 or more)", ListenFDEnv, fd)
		}
		return fdPrefix + strconv.Itoa(n), nil
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			if err == nil {
				err = strconv.ErrRange
			}
			return "", fmt.Errorf("%s=%q is not a port number (1-65535): %w", PortEnv, port, err)
		}
	}
	if listen == "" {
		if port == "" {
			return "", fmt.Errorf("neither %s nor %s is set: the worker does not know where to listen", ListenEnv, PortEnv)
		}
		return net.JoinHostPort("127.0.0.1", port), nil
	}
	if strings.HasPrefix(listen, "/") {
		listen = unixPrefix + listen // processModel.listen unix: a bare socket path
	}
	if sock, ok := strings.CutPrefix(listen, unixPrefix); ok {
		if sock == "" {
			return "", fmt.Errorf("%s=%q: the unix socket path is empty", ListenEnv, listen)
		}
		return listen, nil
	}
	_, lport, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("%s=%q is not host:port: %w", ListenEnv, listen, err)
	}
	if n, err := strconv.Atoi(lport); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%s=%q: port %q is not a number in 1-65535", ListenEnv, listen, lport)
	}
	if port != "" && port != lport {
		return "", fmt.Errorf("%s=%q and %s=%q disagree about the port", ListenEnv, listen, PortEnv, port)
	}
	return listen, nil
}
