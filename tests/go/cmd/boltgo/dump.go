package main

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// boltgo dump FILE: the logical content, the Tx.Check errors and the active
// meta page of a database, as one JSON object on stdout.

type dumpOutput struct {
	Content        *Content `json:"content"`
	Check          []string `json:"check"`
	Meta           *Meta    `json:"meta"`
	PageSize       int      `json:"page_size"`
	ActiveMetaPage *int     `json:"active_meta_page"`
}

func openReadOnly(path string) (*bolt.DB, error) {
	return bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
}

func cmdDump(args []string) int {
	if len(args) != 1 {
		return usageError("dump takes one argument: FILE")
	}
	db, err := openReadOnly(args[0])
	if err != nil {
		return printError(err.Error())
	}
	defer db.Close()
	out, err := dumpDB(db)
	if err != nil {
		return printError(err.Error())
	}
	printJSON(out)
	return 0
}

// dumpDB reads content, check errors and meta of an open database.
func dumpDB(db *bolt.DB) (out *dumpOutput, err error) {
	tx, err := db.Begin(false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("panic while reading content: %v", r)
		}
	}()
	out = &dumpOutput{
		Content:  readContent(tx),
		Check:    checkErrors(tx),
		PageSize: db.Info().PageSize,
	}
	if mi, merr := readActiveMeta(db.Path()); merr == nil {
		out.Meta = &mi.Meta
		out.ActiveMetaPage = &mi.Page
	}
	return out, nil
}

// checkErrors runs Tx.Check and collects the error messages.
func checkErrors(tx *bolt.Tx) []string {
	errs := []string{}
	for err := range tx.Check() {
		errs = append(errs, err.Error())
	}
	return errs
}
