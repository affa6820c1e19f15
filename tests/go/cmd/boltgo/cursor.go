package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// boltgo cursor FILE: runs cursor operations read from stdin, one JSON
// request per line:
//
//	{"path": [hex bucket names...], "ops": [["first"], ["seek", "<hex>"], ...]}
//
// and answers each with one line {"results": [null | [khex, vhex|null], ...]}
// or {"error": "..."}. All lines share one read transaction.

type cursorRequest struct {
	Path []string   `json:"path"`
	Ops  [][]string `json:"ops"`
}

func cmdCursor(args []string) int {
	if len(args) != 1 {
		return usageError("cursor takes one argument: FILE")
	}
	db, err := openReadOnly(args[0])
	if err != nil {
		return printError(err.Error())
	}
	defer db.Close()
	tx, err := db.Begin(false)
	if err != nil {
		return printError(err.Error())
	}
	defer tx.Rollback()

	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriterSize(os.Stdout, 1<<16)
	defer out.Flush()
	buckets := map[string]*bolt.Bucket{}
	for {
		line, rerr := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			if err := writeJSONLine(out, runCursorLine(tx, buckets, line)); err != nil {
				fmt.Fprintf(os.Stderr, "boltgo: %v\n", err)
				return 1
			}
			if err := out.Flush(); err != nil {
				return 1
			}
		}
		if rerr == io.EOF {
			return 0
		}
		if rerr != nil {
			fmt.Fprintf(os.Stderr, "boltgo: reading stdin: %v\n", rerr)
			return 1
		}
	}
}

func runCursorLine(tx *bolt.Tx, buckets map[string]*bolt.Bucket, line []byte) any {
	var req cursorRequest
	if err := json.Unmarshal(line, &req); err != nil {
		return map[string]string{"error": "invalid request: " + err.Error()}
	}
	var c *bolt.Cursor
	if len(req.Path) == 0 {
		c = tx.Cursor()
	} else {
		b, err := lookupBucket(tx, buckets, req.Path)
		if err != nil {
			return map[string]string{"error": err.Error()}
		}
		c = b.Cursor()
	}
	results := make([]any, 0, len(req.Ops))
	for _, op := range req.Ops {
		r, err := cursorOp(c, op)
		if err != nil {
			return map[string]string{"error": err.Error()}
		}
		results = append(results, r)
	}
	return map[string]any{"results": results}
}

var errBucketNotFound = errors.New("bucket not found")

// lookupBucket resolves a path of hex bucket names from the top level,
// caching every bucket found.
func lookupBucket(tx *bolt.Tx, cache map[string]*bolt.Bucket, path []string) (*bolt.Bucket, error) {
	key := strings.ToLower(strings.Join(path, "/"))
	if b, ok := cache[key]; ok {
		return b, nil
	}
	var b *bolt.Bucket
	for i, h := range path {
		name, err := hex.DecodeString(h)
		if err != nil {
			return nil, fmt.Errorf("invalid hex in path: %q", h)
		}
		if i == 0 {
			b = tx.Bucket(name)
		} else {
			b = b.Bucket(name)
		}
		if b == nil {
			return nil, errBucketNotFound
		}
	}
	cache[key] = b
	return b, nil
}

// cursorOp runs one operation and returns null or [khex, vhex|null].
func cursorOp(c *bolt.Cursor, op []string) (any, error) {
	if len(op) == 0 {
		return nil, errors.New("empty op")
	}
	var k, v []byte
	switch op[0] {
	case "first":
		k, v = c.First()
	case "last":
		k, v = c.Last()
	case "next":
		k, v = c.Next()
	case "prev":
		k, v = c.Prev()
	case "seek":
		if len(op) != 2 {
			return nil, errors.New("seek takes one argument")
		}
		seek, err := hex.DecodeString(op[1])
		if err != nil {
			return nil, fmt.Errorf("invalid hex key: %q", op[1])
		}
		k, v = c.Seek(seek)
	default:
		return nil, fmt.Errorf("unknown op: %q", op[0])
	}
	if k == nil {
		return nil, nil
	}
	if v == nil {
		return []any{hex.EncodeToString(k), nil}, nil
	}
	return []any{hex.EncodeToString(k), hex.EncodeToString(v)}, nil
}
