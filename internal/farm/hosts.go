package farm

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// ReadHosts reads every HostRecord and which hosts are alive (have a
// farm/alive key), at one revision, which it returns. Records sort by
// name; a record that does not decode is skipped. A host alive without a
// record yet is in alive only.
func ReadHosts(ctx context.Context, cli *clientv3.Client, keyOf func(string) string) ([]HostRecord, map[string]bool, int64, error) {
	hp, ap := HostsPrefix(keyOf), AlivePrefix(keyOf)
	resp, err := cli.Txn(ctx).Then(
		clientv3.OpGet(hp, clientv3.WithPrefix()),
		clientv3.OpGet(ap, clientv3.WithPrefix()),
	).Commit()
	if err != nil {
		return nil, nil, 0, fmt.Errorf("read the farm's hosts: %w", err)
	}
	var recs []HostRecord
	for _, kv := range resp.Responses[0].GetResponseRange().Kvs {
		var rec HostRecord
		if json.Unmarshal(kv.Value, &rec) != nil {
			continue
		}
		rec.Name = strings.TrimPrefix(string(kv.Key), hp)
		recs = append(recs, rec)
	}
	alive := map[string]bool{}
	for _, kv := range resp.Responses[1].GetResponseRange().Kvs {
		alive[strings.TrimPrefix(string(kv.Key), ap)] = true
	}
	slices.SortFunc(recs, func(a, b HostRecord) int { return strings.Compare(a.Name, b.Name) })
	return recs, alive, resp.Header.Revision, nil
}
