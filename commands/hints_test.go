package commands

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/store"
)

// TestHintsWordedByTheTool: the store's and the client's errors carry the
// facts and no poolctl command; with the tool's hints registered, each
// renders the tool's hint where it sits in the message, also wrapped and
// joined.
func TestHintsWordedByTheTool(t *testing.T) {
	tests := []struct {
		name string
		err  func() error
		want string
	}{
		{"not found", func() error { return store.NotFound("apppool", "Nope") },
			`apppool "Nope": not found; see 'poolctl list apppool' for the existing ones`},
		{"not found wrapped", func() error { return fmt.Errorf("recycle: %w", store.NotFound("site", "S")) },
			`recycle: site "S": not found; see 'poolctl list site' for the existing ones`},
		{"joined", func() error {
			return errors.Join(store.NotFound("vdir", "S/v"), &store.PoolInUseError{Pool: "A", Apps: []string{"S/"}})
		},
			"vdir \"S/v\": not found; see 'poolctl list vdir' for the existing ones\n" +
				`apppool "A": in use by 1 application(s): S/; move them with /reassignTo:OTHERPOOL, or 'poolctl set app "SITE/PATH" /applicationPool:OTHERPOOL'`},
		{"unknown property", func() error { return store.PoolSchema.UnknownProperty("apppool", "P", "zzzzzzzzzzzz") },
			`apppool "P": zzzzzzzzzzzz: unknown property; see 'poolctl set apppool /?' for the properties`},
		{"missing pool", func() error {
			return &store.ObjectError{Object: "app", ID: "S/", Property: "applicationPool", Msg: `pool "X" does not exist`, Err: store.ErrInvalid, Reason: store.ReasonMissingPool, Value: "X"}
		},
			`app "S/": applicationPool: pool "X" does not exist; add it with 'poolctl add apppool /name:X' or pick an existing one`},
		{"unknown pool", func() error {
			app := store.Application{Path: "/x", ApplicationPool: "Nopool"}
			return (&store.Config{}).AssignPool(&app, "S/x")
		},
			`app "S/x": applicationPool: pool "Nopool" does not exist; create it with 'poolctl add apppool /name:Nopool' or give /applicationPool:EXISTING`},
		{"template without pools", func() error {
			return &store.TemplateError{Msg: "no [[applicationPools]] table", Reason: store.ReasonNoTemplatePools}
		},
			"template: no [[applicationPools]] table: expected the output of 'poolctl list apppool NAME /config'"},
		{"invalid store", func() error { return &store.InvalidStoreError{Path: "/s.toml", Err: store.ErrInvalid} },
			"store /s.toml: invalid configuration (fix the file, or restore a snapshot: 'poolctl list backups', 'poolctl restore backup NAME')"},
		{"host down", func() error { return &hostapi.HostDownError{Socket: "/h.sock", Hint: hostClient("/h.sock").DownHint} },
			"poolctl host is not running (no answer on /h.sock); start it with 'poolctl host', or give its socket with --socket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store.SetHintFunc(nil)
			bare := tt.err().Error()
			store.SetHintFunc(storeHint)
			if strings.Contains(bare, "'poolctl ") && tt.name != "host down" {
				t.Errorf("without the tool's hints, %q names a poolctl command", bare)
			}
			var b bytes.Buffer
			printError(&b, tt.err())
			if got := b.String(); got != "ERROR ( message:"+tt.want+" )\n" {
				t.Errorf("printed %q\nwant    %q", got, "ERROR ( message:"+tt.want+" )\n")
			}
		})
	}
}
