package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// boltgo export FILE [BUCKET_HEX...]: the logical content as pybbolt
// export's JSON Lines (docs/JSON.md), written the plain Go way: bbolt's
// ForEach and encoding/json. The tests compare it with pybbolt's export;
// make bench times it against pybbolt's.

type exportHeader struct {
	Format   string `json:"format"`
	Version  int    `json:"version"`
	PageSize int    `json:"page_size"`
}

type exportBucket struct {
	Bucket   []any  `json:"bucket"`
	Sequence uint64 `json:"sequence"`
}

type exportPair struct {
	Bucket []any `json:"bucket"`
	Key    any   `json:"key"`
	Value  any   `json:"value"`
}

// jsonBytes: a string when b is UTF-8 without control characters (tab,
// newline and carriage return allowed), else {"hex": ...}.
func jsonBytes(b []byte) any {
	if !utf8.Valid(b) {
		return map[string]string{"hex": hex.EncodeToString(b)}
	}
	for _, r := range string(b) {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || (r >= 0x7f && r <= 0x9f) {
			return map[string]string{"hex": hex.EncodeToString(b)}
		}
	}
	return string(b)
}

func cmdExport(args []string) int {
	if len(args) < 1 {
		return usageError("export takes FILE [BUCKET_HEX...]")
	}
	var path [][]byte
	for _, h := range args[1:] {
		name, err := hex.DecodeString(h)
		if err != nil {
			return usageError("bad hex %q", h)
		}
		path = append(path, name)
	}
	db, err := openReadOnly(args[0])
	if err != nil {
		return printError(err.Error())
	}
	defer db.Close()
	w := bufio.NewWriterSize(os.Stdout, 1<<16)
	defer w.Flush()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	err = db.View(func(tx *bolt.Tx) error {
		if err := enc.Encode(exportHeader{"pybbolt-export", 1, db.Info().PageSize}); err != nil {
			return err
		}
		if len(path) == 0 {
			return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
				return exportBucketTree(enc, []any{jsonBytes(name)}, b)
			})
		}
		b := tx.Bucket(path[0])
		for _, name := range path[1:] {
			if b == nil {
				break
			}
			b = b.Bucket(name)
		}
		if b == nil {
			return fmt.Errorf("bucket not found")
		}
		names := make([]any, len(path))
		for i, name := range path {
			names[i] = jsonBytes(name)
		}
		return exportBucketTree(enc, names, b)
	})
	if err != nil {
		w.Flush()
		fmt.Fprintf(os.Stderr, "boltgo: export: %v\n", err)
		return 1
	}
	return 0
}

func exportBucketTree(enc *json.Encoder, path []any, b *bolt.Bucket) error {
	if err := enc.Encode(exportBucket{path, b.Sequence()}); err != nil {
		return err
	}
	return b.ForEach(func(k, v []byte) error {
		if v == nil {
			child := append(append([]any{}, path...), jsonBytes(k))
			return exportBucketTree(enc, child, b.Bucket(k))
		}
		return enc.Encode(exportPair{path, jsonBytes(k), jsonBytes(v)})
	})
}
