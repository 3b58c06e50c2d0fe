package commands

import (
	"fmt"

	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/store"
)

// The tool words the hints: lower packages return errors with the facts
// (which object, which name, what is wrong, as a store.Reason) and no
// poolctl command in them; the tool's hints are registered with the store
// (store.SetHintFunc) and given to the host client (DownHint), so that
// only the tool knows its own command line.

func init() { store.SetHintFunc(storeHint) }

// hostDownHint ends the message of a host that does not answer.
const hostDownHint = "start it with 'poolctl host', or give its socket with --socket"

// hostClient is the control API client of the tool, with its hints.
func hostClient(socket string) *hostapi.Client {
	c := hostapi.NewClient(socket)
	c.DownHint = hostDownHint
	return c
}

// storeHint is the tool's hint for one of the store's errors, or "".
func storeHint(err error) string {
	switch x := err.(type) {
	case *store.ObjectError:
		return reasonHint(x.Reason, x.Object, x.Value)
	case *store.TemplateError:
		return reasonHint(x.Reason, "apppool", "")
	case *store.PoolInUseError:
		return `move them with /reassignTo:OTHERPOOL, or 'poolctl set app "SITE/PATH" /applicationPool:OTHERPOOL'`
	case *store.InvalidStoreError:
		return "fix the file, or restore a snapshot: 'poolctl list backups', 'poolctl restore backup NAME'"
	}
	return ""
}

// reasonHint words the hint for a Reason about object (value: the value at
// fault), or "".
func reasonHint(r store.Reason, object, value string) string {
	switch r {
	case store.ReasonNotFound:
		return fmt.Sprintf("see 'poolctl list %s' for the existing ones", object)
	case store.ReasonUnknownProperty:
		return fmt.Sprintf("see 'poolctl set %s /?' for the properties", object)
	case store.ReasonMissingPool:
		return "add it with 'poolctl add apppool /name:" + value + "' or pick an existing one"
	case store.ReasonUnknownPool:
		return "create it with 'poolctl add apppool /name:" + value + "' or give /applicationPool:EXISTING"
	case store.ReasonNoTemplatePools:
		return "expected the output of 'poolctl list apppool NAME /config'"
	}
	return ""
}
