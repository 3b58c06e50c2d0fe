package etcdstore

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/poolctl/poolctl/store"
)

// Scheme is the --config scheme of a store in etcd.
const Scheme = "etcd"

// DefaultPrefix is the key prefix when the URL gives none.
const DefaultPrefix = "poolctl"

// Environment variables that configure the connection to etcd. The
// password is read only from a file or the environment, never from argv.
const (
	EnvCACert       = "POOLCTL_ETCD_CACERT"        // PEM file of the CA that signed etcd's certificates; turns TLS on
	EnvCert         = "POOLCTL_ETCD_CERT"          // PEM client certificate (with EnvKey); turns TLS on
	EnvKey          = "POOLCTL_ETCD_KEY"           // PEM private key of EnvCert
	EnvTLS          = "POOLCTL_ETCD_TLS"           // "1": TLS with the system's CAs
	EnvUser         = "POOLCTL_ETCD_USER"          // etcd user name
	EnvPasswordFile = "POOLCTL_ETCD_PASSWORD_FILE" // file whose first line is the password
	EnvPassword     = "POOLCTL_ETCD_PASSWORD"      // the password itself
)

// Location is a parsed etcd://HOST:PORT[,HOST:PORT...]/PREFIX.
type Location struct {
	Endpoints []string // "host:port"
	Prefix    string   // without slashes, e.g. "poolctl" or "farm/a"
}

// ParseLocation parses an etcd:// --config value.
func ParseLocation(spec string) (Location, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: --config %q: %s; expected etcd://HOST:PORT[,HOST:PORT...]/PREFIX", store.ErrInvalid, spec, fmt.Sprintf(format, args...))
	}
	scheme, ok := store.HasScheme(spec)
	if !ok || scheme != Scheme {
		return Location{}, bad("not an etcd URL")
	}
	rest := spec[len(Scheme)+3:]
	hosts, prefix, _ := strings.Cut(rest, "/")
	if strings.ContainsAny(hosts, "@?#") || strings.ContainsAny(prefix, "?#") {
		return Location{}, bad("user names, queries and fragments are not part of the URL (the user comes from $%s)", EnvUser)
	}
	var loc Location
	for h := range strings.SplitSeq(hosts, ",") {
		host, port, err := net.SplitHostPort(h)
		if err != nil || host == "" {
			return Location{}, bad("endpoint %q is not HOST:PORT", h)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return Location{}, bad("endpoint %q has no valid port", h)
		}
		loc.Endpoints = append(loc.Endpoints, net.JoinHostPort(host, port))
	}
	prefix = strings.Trim(prefix, "/")
	if prefix == "" {
		prefix = DefaultPrefix
	}
	for _, el := range strings.Split(prefix, "/") {
		if el == "" || el == "." || el == ".." {
			return Location{}, bad("prefix %q has an empty, '.' or '..' element", prefix)
		}
	}
	for _, r := range prefix {
		if r < 0x20 || r == 0x7f {
			return Location{}, bad("prefix has a control character")
		}
	}
	loc.Prefix = prefix
	return loc, nil
}

// String is the canonical URL.
func (l Location) String() string {
	return Scheme + "://" + strings.Join(l.Endpoints, ",") + "/" + l.Prefix
}

// key is the etcd key of name under the prefix.
func (l Location) key(name string) string { return "/" + l.Prefix + "/" + name }

// credentials are the TLS and auth settings read from the environment.
type credentials struct {
	tls      *tls.Config
	user     string
	password string
}

// readCredentials reads the POOLCTL_ETCD_* variables through getenv.
func readCredentials(getenv func(string) string) (credentials, error) {
	var cr credentials
	ca, cert, key := getenv(EnvCACert), getenv(EnvCert), getenv(EnvKey)
	if ca != "" || cert != "" || key != "" || getenv(EnvTLS) == "1" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if ca != "" {
			pem, err := os.ReadFile(ca)
			if err != nil {
				return cr, fmt.Errorf("read %s: %w", EnvCACert, err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return cr, fmt.Errorf("%w: %s=%s holds no PEM certificate", store.ErrInvalid, EnvCACert, ca)
			}
			cfg.RootCAs = pool
		}
		if (cert == "") != (key == "") {
			return cr, fmt.Errorf("%w: %s and %s go together: set both or neither", store.ErrInvalid, EnvCert, EnvKey)
		}
		if cert != "" {
			pair, err := tls.LoadX509KeyPair(cert, key)
			if err != nil {
				return cr, fmt.Errorf("load the etcd client certificate (%s, %s): %w", EnvCert, EnvKey, err)
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
		cr.tls = cfg
	}
	cr.user = getenv(EnvUser)
	pw, pwFile := getenv(EnvPassword), getenv(EnvPasswordFile)
	if pwFile != "" {
		if pw != "" {
			return cr, fmt.Errorf("%w: set %s or %s, not both", store.ErrInvalid, EnvPassword, EnvPasswordFile)
		}
		data, err := os.ReadFile(pwFile)
		if err != nil {
			return cr, fmt.Errorf("read %s: %w", EnvPasswordFile, err)
		}
		pw, _, _ = strings.Cut(string(data), "\n")
		pw = strings.TrimSuffix(pw, "\r")
	}
	if pw != "" && cr.user == "" {
		return cr, fmt.Errorf("%w: an etcd password is set but no %s", store.ErrInvalid, EnvUser)
	}
	cr.password = pw
	return cr, nil
}
