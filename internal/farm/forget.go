package farm

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/poolctl/poolctl/store"
)

// Forget deletes the record of a Gone host (farm/hosts/NAME), in a
// transaction that refuses when the host is alive: a live host's record
// would come back at its next report, and says what runs. No record is an
// error wrapping store.ErrNotFound; a live host one wrapping
// store.ErrInUse.
func Forget(ctx context.Context, cli *clientv3.Client, keyOf func(string) string, name string) error {
	hk, ak := HostKey(keyOf, name), AliveKey(keyOf, name)
	resp, err := cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(ak), "=", 0), clientv3.Compare(clientv3.CreateRevision(hk), ">", 0)).
		Then(clientv3.OpDelete(hk)).
		Else(clientv3.OpGet(ak, clientv3.WithCountOnly()), clientv3.OpGet(hk, clientv3.WithCountOnly())).
		Commit()
	if err != nil {
		return fmt.Errorf("delete host %q: %w", name, err)
	}
	if resp.Succeeded {
		return nil
	}
	if resp.Responses[0].GetResponseRange().Count > 0 {
		return fmt.Errorf("%w: host %q is alive; only a Gone host can be deleted (stop its poolctl host first; its record comes back while it runs)", store.ErrInUse, name)
	}
	return fmt.Errorf("%w: host %q: no such host in the farm ('poolctl list host' shows them)", store.ErrNotFound, name)
}
