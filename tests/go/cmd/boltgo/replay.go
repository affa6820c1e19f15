package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// boltgo replay WORKLOAD.json FILE: applies a write workload with the real
// library and prints {"errors": [[tx, op, "message"], ...], "meta": {...}}.
// Op errors are recorded and the transaction goes on; an error of Begin or
// Commit is recorded with op index -1.

type workload struct {
	Options workloadOptions `json:"options"`
	Txs     []workloadTx    `json:"txs"`
}

type workloadOptions struct {
	PageSize       int    `json:"PageSize"`
	NoFreelistSync bool   `json:"NoFreelistSync"`
	FreelistType   string `json:"FreelistType"`
	NoSync         bool   `json:"NoSync"`
}

type workloadTx struct {
	Commit bool         `json:"commit"`
	Ops    []workloadOp `json:"ops"`
}

type workloadOp struct {
	Op   string   `json:"op"`
	Path []string `json:"path"`
	K    string   `json:"k"`
	V    string   `json:"v"`
	// Repeat > 0: put stores V repeated Repeat times (large values without a
	// huge workload file).
	Repeat uint64   `json:"repeat"`
	Name   string   `json:"name"`
	N      uint64   `json:"n"`
	Value  float64  `json:"value"`
	Src    []string `json:"src"`
	Dst    []string `json:"dst"`
}

type replayOutput struct {
	Errors [][]any `json:"errors"`
	Meta   *Meta   `json:"meta"`
}

func cmdReplay(args []string) int {
	if len(args) != 2 {
		return usageError("replay takes two arguments: WORKLOAD.json FILE")
	}
	raw, err := os.ReadFile(args[0])
	if err != nil {
		return printError(err.Error())
	}
	var w workload
	if err := json.Unmarshal(raw, &w); err != nil {
		return printError("invalid workload: " + err.Error())
	}
	opts := &bolt.Options{
		PageSize:       w.Options.PageSize,
		NoFreelistSync: w.Options.NoFreelistSync,
		NoSync:         w.Options.NoSync,
		FreelistType:   bolt.FreelistArrayType,
	}
	switch w.Options.FreelistType {
	case "", "array":
	case "hashmap", "map":
		opts.FreelistType = bolt.FreelistMapType
	default:
		return printError(fmt.Sprintf("unknown FreelistType %q", w.Options.FreelistType))
	}
	db, err := bolt.Open(args[1], 0o600, opts)
	if err != nil {
		return printError(err.Error())
	}
	out := replayOutput{Errors: [][]any{}}
	for i, t := range w.Txs {
		for _, e := range replayTx(db, t) {
			out.Errors = append(out.Errors, []any{i, e.op, e.msg})
		}
	}
	if err := db.Close(); err != nil {
		out.Errors = append(out.Errors, []any{len(w.Txs), -1, "close: " + err.Error()})
	}
	if mi, err := readActiveMeta(args[1]); err == nil {
		out.Meta = &mi.Meta
	}
	printJSON(out)
	return 0
}

type opError struct {
	op  int
	msg string
}

func replayTx(db *bolt.DB, t workloadTx) (errs []opError) {
	tx, err := db.Begin(true)
	if err != nil {
		return []opError{{-1, err.Error()}}
	}
	st := &txState{tx: tx, buckets: map[string]*bolt.Bucket{}}
	for j, op := range t.Ops {
		if err := st.apply(op); err != nil {
			errs = append(errs, opError{j, err.Error()})
		}
	}
	if t.Commit {
		if err := tx.Commit(); err != nil {
			errs = append(errs, opError{-1, err.Error()})
		}
	} else if err := tx.Rollback(); err != nil {
		errs = append(errs, opError{-1, err.Error()})
	}
	return errs
}

// txState is one write transaction with its bucket objects cached by path,
// so that settings such as FillPercent stay on the bucket for the whole tx.
type txState struct {
	tx      *bolt.Tx
	buckets map[string]*bolt.Bucket // key: pathKey
}

var errTopLevel = errors.New("path [] is the top level: only bucket operations are allowed there")

func decodePath(path []string) ([][]byte, error) {
	out := make([][]byte, len(path))
	for i, h := range path {
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil, fmt.Errorf("invalid hex in path: %q", h)
		}
		out[i] = b
	}
	return out, nil
}

func pathKey(path [][]byte) string {
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = hex.EncodeToString(p)
	}
	return strings.Join(parts, "/")
}

func childKey(parent [][]byte, name []byte) string {
	return pathKey(append(append([][]byte{}, parent...), name))
}

// bucket resolves path; nil with no error means the top level.
func (s *txState) bucket(path [][]byte) (*bolt.Bucket, error) {
	if len(path) == 0 {
		return nil, nil
	}
	key := pathKey(path)
	if b, ok := s.buckets[key]; ok {
		return b, nil
	}
	parent, err := s.bucket(path[:len(path)-1])
	if err != nil {
		return nil, err
	}
	name := path[len(path)-1]
	var b *bolt.Bucket
	if parent == nil {
		b = s.tx.Bucket(name)
	} else {
		b = parent.Bucket(name)
	}
	if b == nil {
		return nil, errBucketNotFound
	}
	s.buckets[key] = b
	return b, nil
}

// bucketAt resolves a path that must name a bucket, not the top level.
func (s *txState) bucketAt(rawPath []string) (*bolt.Bucket, error) {
	path, err := decodePath(rawPath)
	if err != nil {
		return nil, err
	}
	if len(path) == 0 {
		return nil, errTopLevel
	}
	return s.bucket(path)
}

// forget drops the cached bucket at key and everything below it.
func (s *txState) forget(key string) {
	for k := range s.buckets {
		if k == key || strings.HasPrefix(k, key+"/") {
			delete(s.buckets, k)
		}
	}
}

func decodeHex(what, h string) ([]byte, error) {
	b, err := hex.DecodeString(h)
	if err != nil {
		return nil, fmt.Errorf("invalid hex %s: %q", what, h)
	}
	return b, nil
}

func (s *txState) apply(op workloadOp) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	switch op.Op {
	case "put", "delete":
		b, err := s.bucketAt(op.Path)
		if err != nil {
			return err
		}
		k, err := decodeHex("key", op.K)
		if err != nil {
			return err
		}
		if op.Op == "delete" {
			return b.Delete(k)
		}
		v, err := decodeHex("value", op.V)
		if err != nil {
			return err
		}
		if op.Repeat > 0 {
			v = bytes.Repeat(v, int(op.Repeat))
		}
		return b.Put(k, v)
	case "create_bucket", "create_bucket_if_not_exists", "delete_bucket":
		return s.bucketOp(op)
	case "set_sequence", "next_sequence", "fill_percent":
		b, err := s.bucketAt(op.Path)
		if err != nil {
			return err
		}
		switch op.Op {
		case "set_sequence":
			return b.SetSequence(op.N)
		case "next_sequence":
			_, err = b.NextSequence()
			return err
		}
		b.FillPercent = op.Value
		return nil
	case "move_bucket":
		return s.moveBucket(op)
	}
	return fmt.Errorf("unknown op %q", op.Op)
}

func (s *txState) bucketOp(op workloadOp) error {
	path, err := decodePath(op.Path)
	if err != nil {
		return err
	}
	name, err := decodeHex("name", op.Name)
	if err != nil {
		return err
	}
	parent, err := s.bucket(path)
	if err != nil {
		return err
	}
	key := childKey(path, name)
	var b *bolt.Bucket
	switch {
	case op.Op == "delete_bucket" && parent == nil:
		err = s.tx.DeleteBucket(name)
	case op.Op == "delete_bucket":
		err = parent.DeleteBucket(name)
	case op.Op == "create_bucket" && parent == nil:
		b, err = s.tx.CreateBucket(name)
	case op.Op == "create_bucket":
		b, err = parent.CreateBucket(name)
	case parent == nil:
		b, err = s.tx.CreateBucketIfNotExists(name)
	default:
		b, err = parent.CreateBucketIfNotExists(name)
	}
	if op.Op == "delete_bucket" {
		s.forget(key)
	} else if err == nil && b != nil {
		if _, ok := s.buckets[key]; !ok {
			s.buckets[key] = b
		}
	}
	return err
}

func (s *txState) moveBucket(op workloadOp) error {
	src, err := decodePath(op.Src)
	if err != nil {
		return err
	}
	dst, err := decodePath(op.Dst)
	if err != nil {
		return err
	}
	name, err := decodeHex("name", op.Name)
	if err != nil {
		return err
	}
	srcB, err := s.bucket(src)
	if err != nil {
		return err
	}
	dstB, err := s.bucket(dst)
	if err != nil {
		return err
	}
	err = s.tx.MoveBucket(name, srcB, dstB)
	if err == nil {
		s.forget(childKey(src, name))
	}
	return err
}
