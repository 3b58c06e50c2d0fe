package commands

import (
	"errors"
	"fmt"
	"os"

	"github.com/poolctl/poolctl/commands/params"
	"github.com/poolctl/poolctl/store"
)

func backupObject() *object {
	return &object{
		name:    "backup",
		aliases: []string{"backups"},
		summary: "A named copy of the store, or a history snapshot (CFGHISTORY_...) taken before each change",
		actions: map[string]action{
			"list":    {listBackup, "poolctl list backup [NAME] [/text:ATTR | /text:* | /json]", "List named backups and history snapshots"},
			"add":     {addBackup, "poolctl add backup [NAME] | /to:FILE", "Copy the store to a named backup; without a name, the local time (yyyyMMddTHHmmss); /to:FILE copies it to a new file instead (moving a store out of etcd)"},
			"restore": {restoreBackup, "poolctl restore backup NAME | /from:FILE", "Validate the backup (or the store file FILE: moving a store into etcd) and make it the store; the replaced store is kept as a history snapshot"},
			"delete":  {deleteBackup, "poolctl delete backup NAME", "Delete a named backup or a history snapshot"},
		},
	}
}

func backupView() *view {
	return newView("BACKUP", []prop{
		{key: "name", aliases: []string{"backup.name"}, header: "NAME", get: func(o any) any { return o.(store.Backup).Name }},
		{key: "type", header: "TYPE", get: func(o any) any {
			if o.(store.Backup).History {
				return "history"
			}
			return "backup"
		}},
		{key: "time", get: func(o any) any { return o.(store.Backup).Time.UTC().Format("2006-01-02T15:04:05Z") }},
		{key: "path", get: func(o any) any { return o.(store.Backup).Path }},
	})
}

func listBackup(e *env, a params.Args) error {
	v := backupView()
	l, err := parseList(a, "backup.name", v)
	if err != nil {
		return err
	}
	id, hasID, filters := l.id, l.hasID, l.filters
	cfg, err := e.loadForBackups()
	if err != nil {
		return err
	}
	all, err := e.store.Backups(cfg)
	if err != nil {
		return err
	}
	var rows []row
	for _, b := range all {
		r := row{v: v, id: b.Name, obj: b}
		if (!hasID || b.Name == id) && r.match(filters) {
			rows = append(rows, r)
		}
	}
	if hasID && len(rows) == 0 {
		if _, err := e.store.FindBackup(cfg, id); err != nil {
			return err
		}
	}
	return render(e.stdout, v, rows, l.mode)
}

func addBackup(e *env, a params.Args) error {
	if a.Has("to") {
		return exportStore(e, a) // backup_move.go
	}
	name, _, err := identifier(a, "name")
	if err != nil {
		return err
	}
	rest, _ := a.Take("name")
	if err := noParams(rest, "add", "backup"); err != nil {
		return err
	}
	ctx, cancel := e.withTimeout()
	defer cancel()
	name, err = e.store.AddBackup(ctx, name, e.now())
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "BACKUP object %q added\n", name)
	return nil
}

func restoreBackup(e *env, a params.Args) error {
	if a.Has("from") {
		return importStore(e, a) // backup_move.go
	}
	name, err := idOnly(a, "restore", "backup", "backup.name")
	if err != nil {
		return err
	}
	cfg, err := e.loadForBackups()
	if err != nil {
		return err
	}
	ctx, cancel := e.withTimeout()
	defer cancel()
	if err := e.store.RestoreBackup(ctx, cfg, name); err != nil {
		return err
	}
	e.notifyHost(ctx)
	fmt.Fprintf(e.stdout, "Restored configuration from backup %q\n", name)
	return nil
}

func deleteBackup(e *env, a params.Args) error {
	name, err := idOnly(a, "delete", "backup", "backup.name")
	if err != nil {
		return err
	}
	cfg, err := e.loadForBackups()
	if err != nil {
		return err
	}
	if err := e.store.DeleteBackup(cfg, name); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "BACKUP object %q deleted\n", name)
	return nil
}

// loadForBackups reads the store for the backup verbs. An invalid store must
// not stop them: listing and restoring backups is how it is repaired, as its
// error message advises. The history settings are then read as far as the
// file allows, else the defaults apply (history beside the store).
func (e *env) loadForBackups() (*store.Config, error) {
	cfg, err := e.load()
	if err == nil || !errors.Is(err, store.ErrInvalid) {
		return cfg, err
	}
	if data, rerr := os.ReadFile(e.store.Path); rerr == nil {
		if c, uerr := store.Unmarshal(data); uerr == nil {
			return c, nil
		}
	}
	return &store.Config{}, nil
}
