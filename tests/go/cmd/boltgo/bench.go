package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	bolt "go.etcd.io/bbolt"
)

// boltgo bench OP --n N --db FILE [--keys FILE] [--dst FILE] [--reps R]:
// the Go side of benchmarks/run.py.  Each repetition of the operation is
// timed inside this process (start-up, key generation and opening a source
// database are not counted) and the result is printed as one line of JSON:
//
//	{"op": "b", "n": 100000, "seconds": [0.31, 0.30, 0.30], "verify": {...}, "go": "go1.x"}
//
// The workload is the one benchmarks/workload.py defines: bucket "bench",
// key i = 8 zero bytes + uint64 big-endian i, value = key[8:16] + 92 filler
// bytes (value byte j = j-8 for j >= 8).  Every writer opens its file with
// NoSync, as the Python stores are run without syncing.
//
//	a   sequential load, one transaction (FILE is recreated for each rep)
//	b   sequential load, 1000 puts per transaction
//	c2  load in the order of the keys in --keys, 1000 puts per transaction
//	d   one read transaction getting every key of --keys
//	e   full cursor scan of the bucket
//	e2  full scan with Bucket.ForEach
//	f   tx.Check, drained
//	g   bucket stats
//	h   bolt.Compact(--dst, FILE, 65536) (--dst recreated for each rep)
//
// boltgo bench version prints {"go": "go1.x"}.

const (
	benchBucket    = "bench"
	benchBatch     = 1000
	benchValueSize = 100
	benchKeySize   = 16
	benchTxMaxSize = 65536
)

func cmdBench(args []string) int {
	if len(args) < 1 {
		return usageError("bench needs an operation: a, b, c2, d, e, e2, f, g or h")
	}
	op := args[0]
	if op == "version" {
		printJSON(map[string]string{"go": runtime.Version()})
		return 0
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	n := fs.Int("n", 0, "number of keys")
	dbPath := fs.String("db", "", "database file")
	keysPath := fs.String("keys", "", "file of 16-byte keys (c2: load order, d: keys to get)")
	dstPath := fs.String("dst", "", "compaction destination (h)")
	reps := fs.Int("reps", 3, "repetitions")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *n <= 0 || *dbPath == "" || *reps <= 0 {
		return usageError("bench needs --n > 0, --db and --reps > 0")
	}
	var keys [][]byte
	if op == "c2" || op == "d" {
		var err error
		if keys, err = readKeys(*keysPath); err != nil {
			return printError(err.Error())
		}
	}
	seconds := make([]float64, 0, *reps)
	verify := map[string]any{}
	for rep := 0; rep < *reps; rep++ {
		elapsed, err := benchOnce(op, *n, *dbPath, *dstPath, keys, verify)
		if err != nil {
			return printError(fmt.Sprintf("%s rep %d: %v", op, rep, err))
		}
		seconds = append(seconds, elapsed.Seconds())
	}
	printJSON(map[string]any{
		"op": op, "n": *n, "seconds": seconds, "verify": verify, "go": runtime.Version(),
	})
	return 0
}

func benchKey(i uint64) []byte {
	k := make([]byte, benchKeySize)
	binary.BigEndian.PutUint64(k[8:], i)
	return k
}

// benchValue is the value stored under key: its counter and 92 filler bytes.
func benchValue(key []byte) []byte {
	v := make([]byte, benchValueSize)
	copy(v, key[8:])
	for j := 8; j < benchValueSize; j++ {
		v[j] = byte(j - 8)
	}
	return v
}

func readKeys(path string) ([][]byte, error) {
	if path == "" {
		return nil, errors.New("this operation needs --keys")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(raw)%benchKeySize != 0 {
		return nil, fmt.Errorf("%s: size %d is not a multiple of %d", path, len(raw), benchKeySize)
	}
	keys := make([][]byte, 0, len(raw)/benchKeySize)
	for off := 0; off < len(raw); off += benchKeySize {
		keys = append(keys, raw[off:off+benchKeySize:off+benchKeySize])
	}
	return keys, nil
}

func benchOnce(op string, n int, dbPath, dstPath string, keys [][]byte, verify map[string]any) (time.Duration, error) {
	switch op {
	case "a", "b", "c2":
		if op != "c2" {
			keys = make([][]byte, n)
			for i := range keys {
				keys[i] = benchKey(uint64(i))
			}
		}
		values := make([][]byte, len(keys))
		for i, k := range keys {
			values[i] = benchValue(k)
		}
		batch := benchBatch
		if op == "a" {
			batch = len(keys)
		}
		return benchLoad(dbPath, keys, values, batch)
	case "d", "e", "e2", "f", "g":
		return benchRead(op, dbPath, keys, verify)
	case "h":
		return benchCompact(dbPath, dstPath)
	}
	return 0, fmt.Errorf("unknown operation %q", op)
}

func benchLoad(path string, keys, values [][]byte, batch int) (time.Duration, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	start := time.Now()
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte(benchBucket))
		return err
	}); err != nil {
		return 0, err
	}
	for lo := 0; lo < len(keys); lo += batch {
		hi := min(lo+batch, len(keys))
		if err := db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte(benchBucket))
			for i := lo; i < hi; i++ {
				if err := b.Put(keys[i], values[i]); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

func benchRead(op, path string, keys [][]byte, verify map[string]any) (time.Duration, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	start := time.Now()
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(benchBucket))
		if b == nil {
			return errors.New("no bucket " + benchBucket)
		}
		switch op {
		case "d":
			found, total := 0, 0
			for _, k := range keys {
				if v := b.Get(k); v != nil {
					found++
					total += len(v)
				}
			}
			verify["found"], verify["bytes"] = found, total
		case "e":
			count, total := 0, 0
			c := b.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				count++
				total += len(k) + len(v)
			}
			verify["count"], verify["bytes"] = count, total
		case "e2":
			count, total := 0, 0
			if err := b.ForEach(func(k, v []byte) error {
				count++
				total += len(k) + len(v)
				return nil
			}); err != nil {
				return err
			}
			verify["count"], verify["bytes"] = count, total
		case "f":
			problems := 0
			for range tx.Check() {
				problems++
			}
			verify["errors"] = problems
		case "g":
			s := b.Stats()
			verify["KeyN"], verify["LeafPageN"], verify["BranchPageN"] = s.KeyN, s.LeafPageN, s.BranchPageN
		}
		return nil
	})
	return time.Since(start), err
}

func benchCompact(srcPath, dstPath string) (time.Duration, error) {
	if dstPath == "" {
		return 0, errors.New("compact needs --dst")
	}
	if err := os.Remove(dstPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, err
	}
	defer os.Remove(dstPath)
	src, err := bolt.Open(srcPath, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		return 0, err
	}
	defer src.Close()
	dst, err := bolt.Open(dstPath, 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		return 0, err
	}
	defer dst.Close()
	start := time.Now()
	if err := bolt.Compact(dst, src, benchTxMaxSize); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}
