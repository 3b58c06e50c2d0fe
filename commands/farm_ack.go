package commands

import (
	"context"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/poolctl/poolctl/internal/farm"
)

// reportFarmApplied is the acknowledgement of a write to a store in etcd:
// it waits, within ctx (--timeout), until every live host of the farm has
// applied the store as written (watching farm/hosts/, no polling). Success
// says nothing; a timeout says which hosts apply it in the background. No
// live host: nothing to wait for. Nothing here changes the exit code: the
// store was saved.
func reportFarmApplied(ctx context.Context, e *env) {
	ack, err := waitFarmApplied(ctx, e)
	switch {
	case err != nil:
		fmt.Fprintf(e.stderr, "warning: the store was saved, but whether the farm's hosts applied it is unknown: %v\n", err)
	case len(ack.Pending) > 0:
		fmt.Fprintln(e.stderr, backgroundMessage(ack))
	}
}

// backgroundMessage says which hosts had not applied a change when the
// tool stopped waiting.
func backgroundMessage(ack farm.Ack) string {
	verb := "applies"
	if len(ack.Pending) > 1 {
		verb = "apply"
	}
	return fmt.Sprintf("saved; %d of %d hosts (%s) %s it in the background ('poolctl list host' shows their state)",
		len(ack.Pending), len(ack.Live), strings.Join(ack.Pending, ", "), verb)
}

// waitFarmApplied waits for the live hosts to apply the store as it is now
// (which includes the caller's write): a host has when the store revision
// it published reaches the store's.
func waitFarmApplied(ctx context.Context, e *env) (farm.Ack, error) {
	f, err := e.farm()
	if err != nil {
		return farm.Ack{}, err
	}
	_, alive, err := f.hosts(ctx)
	if err != nil || len(alive) == 0 {
		return farm.Ack{}, err
	}
	applied, err := f.applied(ctx)
	if err != nil {
		return farm.Ack{}, err
	}
	ack, err := farm.WaitApplied(ctx, f.cli, f.b.Key, applied)
	return ack, f.etcdErr(err)
}

// applied is what a host must have applied to include the last write:
// the store's revision, the newest mod revision of its keys (a later
// write only raises it). A host publishes the etcd revision it read the
// store at, so reaching it means having read this write. Keys only, one
// key per range: cheap at 10,000 pools, unlike reading the store again.
func (f *farmConn) applied(ctx context.Context) (farm.Applied, error) {
	newest := []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithLimit(1),
		clientv3.WithSort(clientv3.SortByModRevision, clientv3.SortDescend)}
	resp, err := f.cli.Txn(ctx).Then(
		clientv3.OpGet(f.b.Key("config"), clientv3.WithKeysOnly()),
		clientv3.OpGet(f.b.Key("apppools/"), newest...),
		clientv3.OpGet(f.b.Key("sites/"), newest...),
	).Commit()
	if err != nil {
		return farm.Applied{}, f.etcdErr(err)
	}
	var a farm.Applied
	for _, r := range resp.Responses {
		for _, kv := range r.GetResponseRange().Kvs {
			a.Revision = max(a.Revision, kv.ModRevision)
		}
	}
	return a, nil
}
