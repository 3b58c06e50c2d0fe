package host

import (
	"os"
	"os/user"
	"strconv"
	"sync"
)

var hostIdentity = sync.OnceValue(func() string {
	uid := strconv.Itoa(os.Geteuid())
	name := uid
	if u, err := user.LookupId(uid); err == nil {
		name = u.Username
	}
	return name + " (the host's own user: per-pool identities are not applied)"
})
