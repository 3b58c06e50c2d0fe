package host

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"

	"github.com/poolctl/poolctl/apppool"
)

// newIdentities returns the resolver of the identities workers run as
// (processModel.identityType): the service account of NetworkService and
// LocalService (--service-user, default nobody), the host-wide worker group
// (--worker-group) and the home directories of ApplicationPoolIdentity
// workers (<state>/home/<pool>). An account or group named on the command
// line must exist. When the host is not root, workers run as the host's own
// user; start says so in the log and `list wp` in its identity column.
func newIdentities(opts Options) (*apppool.Identities, error) {
	if opts.ServiceUser != "" {
		if _, err := user.Lookup(opts.ServiceUser); err != nil {
			return nil, fmt.Errorf("service user %q: %w", opts.ServiceUser, err)
		}
	}
	if opts.WorkerGroup != "" {
		if _, _, err := lookupGroup("worker", opts.WorkerGroup); err != nil {
			return nil, err
		}
	}
	home := filepath.Join(opts.StateDir, "home")
	if os.Geteuid() == 0 {
		if err := os.MkdirAll(home, 0o711); err != nil {
			return nil, fmt.Errorf("create identity home directory: %w", err)
		}
	}
	return apppool.NewIdentities(apppool.IdentityOptions{ServiceUser: opts.ServiceUser, WorkerGroup: opts.WorkerGroup, HomeDir: home}), nil
}
