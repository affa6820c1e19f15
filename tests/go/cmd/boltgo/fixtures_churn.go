package main

import (
	"bytes"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"
)

// Workload fixtures: random operation mixes over many transactions (with a
// model of the expected state, so that every operation is a valid one), range
// deletes, and commits under an open read transaction.

// churnProfile parameterises a random operation mix.
type churnProfile struct {
	about        string
	txs          int
	opsMin       int
	opsMax       int
	bucketOpRate float64 // share of bucket create/delete operations
	deleteRate   float64 // share of key deletes among key operations
	bigRate      float64 // share of values large enough for overflow pages
	rollbackRate float64 // share of transactions rolled back
	maxDepth     int     // deepest bucket nesting
}

var churnProfiles = map[int64]churnProfile{
	1: {about: "60 transactions of 20-150 puts, overwrites, deletes, range deletes, sequence updates and bucket create/delete; some rolled back",
		txs: 60, opsMin: 20, opsMax: 150, bucketOpRate: 0.04, deleteRate: 0.2, bigRate: 0.015, rollbackRate: 0.1, maxDepth: 3},
	2: {about: "40 larger transactions of 50-300 operations, more deletes and more large values",
		txs: 40, opsMin: 50, opsMax: 300, bucketOpRate: 0.02, deleteRate: 0.25, bigRate: 0.06, rollbackRate: 0.08, maxDepth: 2},
	3: {about: "120 small transactions of 5-60 operations with frequent bucket creation and deletion, nesting up to 4 levels",
		txs: 120, opsMin: 5, opsMax: 60, bucketOpRate: 0.15, deleteRate: 0.2, bigRate: 0.02, rollbackRate: 0.1, maxDepth: 4},
}

// churnBucket is the model of one bucket: its path and its keys (not its
// sub-buckets). Slices only, so that choices never depend on map order.
type churnBucket struct {
	path  [][]byte
	keys  [][]byte
	index map[string]int
}

func (b *churnBucket) add(k []byte) {
	if _, ok := b.index[string(k)]; ok {
		return
	}
	b.index[string(k)] = len(b.keys)
	b.keys = append(b.keys, k)
}

func (b *churnBucket) remove(k []byte) {
	i, ok := b.index[string(k)]
	if !ok {
		return
	}
	last := len(b.keys) - 1
	b.keys[i] = b.keys[last]
	b.index[string(b.keys[i])] = i
	b.keys = b.keys[:last]
	delete(b.index, string(k))
}

type churnModel struct {
	buckets []*churnBucket
}

func (m *churnModel) clone() *churnModel {
	c := &churnModel{buckets: make([]*churnBucket, len(m.buckets))}
	for i, b := range m.buckets {
		nb := &churnBucket{path: b.path, keys: append([][]byte(nil), b.keys...), index: make(map[string]int, len(b.index))}
		for k, v := range b.index {
			nb.index[k] = v
		}
		c.buckets[i] = nb
	}
	return c
}

func hasPrefixPath(path, prefix [][]byte) bool {
	if len(path) < len(prefix) {
		return false
	}
	for i := range prefix {
		if !bytes.Equal(path[i], prefix[i]) {
			return false
		}
	}
	return true
}

func (m *churnModel) find(path [][]byte) *churnBucket {
	for _, b := range m.buckets {
		if len(b.path) == len(path) && hasPrefixPath(b.path, path) {
			return b
		}
	}
	return nil
}

// treeKeys counts the keys of the bucket at path and of its sub-buckets.
func (m *churnModel) treeKeys(path [][]byte) int {
	n := 0
	for _, b := range m.buckets {
		if hasPrefixPath(b.path, path) {
			n += len(b.keys)
		}
	}
	return n
}

// removeTree drops the bucket at path and everything below it.
func (m *churnModel) removeTree(path [][]byte) {
	kept := m.buckets[:0]
	for _, b := range m.buckets {
		if !hasPrefixPath(b.path, path) {
			kept = append(kept, b)
		}
	}
	m.buckets = kept
}

func buildChurn(p churnProfile) func(g *gen) error {
	return func(g *gen) error {
		m := &churnModel{}
		for t := 0; t < p.txs; t++ {
			rollback := g.rng.Float64() < p.rollbackRate
			snapshot := m
			if rollback {
				m = m.clone()
			}
			tx, err := g.db.Begin(true)
			if err != nil {
				return err
			}
			nops := g.between(p.opsMin, p.opsMax)
			for i := 0; i < nops; i++ {
				if err := churnOp(g, tx, m, p); err != nil {
					tx.Rollback()
					return fmt.Errorf("tx %d op %d: %w", t, i, err)
				}
			}
			if rollback {
				m = snapshot
				if err := tx.Rollback(); err != nil {
					return err
				}
			} else if err := tx.Commit(); err != nil {
				return err
			}
		}
		return nil
	}
}

func (g *gen) churnValue(p churnProfile) []byte {
	r := g.rng.Float64()
	switch {
	case r < p.bigRate:
		return g.randBytes(g.between(1500, 10000))
	case r < 0.25:
		return g.randBytes(g.between(64, 400))
	case r < 0.3:
		return []byte{}
	}
	return g.randText(g.between(1, 64))
}

func (g *gen) churnKey() []byte {
	if g.rng.Intn(10) == 0 {
		return append([]byte("k-"), g.randBytes(g.between(1, 12))...)
	}
	return append([]byte("k-"), g.randText(g.between(2, 20))...)
}

// churnOp runs one random operation on tx and mirrors it in m. Keys start
// with "k-", bucket names with "sub-" or "top-", so they never collide.
func churnOp(g *gen, tx *bolt.Tx, m *churnModel, p churnProfile) error {
	r := g.rng.Float64()
	if len(m.buckets) < 2 || r < p.bucketOpRate*0.75 {
		return churnCreateBucket(g, tx, m, p)
	}
	if r < p.bucketOpRate {
		target := m.buckets[g.rng.Intn(len(m.buckets))]
		if len(m.buckets) < 6 || m.treeKeys(target.path) > 60 {
			return nil // keep the database from emptying out
		}
		return churnDeleteTree(g, tx, m, target.path)
	}
	mb := m.buckets[g.rng.Intn(len(m.buckets))]
	b := g.lookup(tx, mb.path...)
	if b == nil {
		return fmt.Errorf("bucket %q missing", mb.path)
	}
	r = g.rng.Float64()
	switch {
	case len(mb.keys) > 0 && r < p.deleteRate*0.9:
		k := mb.keys[g.rng.Intn(len(mb.keys))]
		mb.remove(k)
		return b.Delete(k)
	case len(mb.keys) > 0 && r < p.deleteRate:
		// A run of consecutive keys, deleted through a cursor.
		sorted := append([][]byte(nil), mb.keys...)
		sort.Slice(sorted, func(i, j int) bool { return bytes.Compare(sorted[i], sorted[j]) < 0 })
		start := g.rng.Intn(len(sorted))
		end := min(len(sorted), start+g.between(2, 12))
		c := b.Cursor()
		for _, k := range sorted[start:end] {
			got, _ := c.Seek(k)
			if !bytes.Equal(got, k) {
				return fmt.Errorf("range delete: key %x not found", k)
			}
			if err := c.Delete(); err != nil {
				return err
			}
			mb.remove(k)
		}
		return nil
	case len(mb.keys) > 0 && r < p.deleteRate+0.2:
		k := mb.keys[g.rng.Intn(len(mb.keys))]
		return b.Put(k, g.churnValue(p))
	case r < p.deleteRate+0.25:
		if g.rng.Intn(2) == 0 {
			_, err := b.NextSequence()
			return err
		}
		return b.SetSequence(uint64(g.rng.Int63n(1 << 20)))
	}
	k := g.churnKey()
	mb.add(k)
	return b.Put(k, g.churnValue(p))
}

// churnDeleteTree deletes the bucket at path bottom-up: the deepest
// sub-buckets first, each through its parent.
//
// Deleting the top bucket alone would be the natural call, but bbolt v1.5.0
// leaks pages there: DeleteBucket walks the sub-buckets with a cursor while
// deleting them through another cursor, and when the bucket's node was
// already changed in this transaction the walk skips every second
// sub-bucket, whose pages are then neither reachable nor freed (Tx.Check:
// "page N: unreachable unfreed"). Fixtures must pass Tx.Check.
func churnDeleteTree(g *gen, tx *bolt.Tx, m *churnModel, path [][]byte) error {
	var tree []*churnBucket
	for _, b := range m.buckets {
		if hasPrefixPath(b.path, path) {
			tree = append(tree, b)
		}
	}
	sort.SliceStable(tree, func(i, j int) bool { return len(tree[i].path) > len(tree[j].path) })
	for _, b := range tree {
		parentPath, name := b.path[:len(b.path)-1], b.path[len(b.path)-1]
		var err error
		if len(parentPath) == 0 {
			err = tx.DeleteBucket(name)
		} else {
			err = g.lookup(tx, parentPath...).DeleteBucket(name)
		}
		if err != nil {
			return fmt.Errorf("delete bucket %q: %w", b.path, err)
		}
	}
	m.removeTree(path)
	return nil
}

func churnCreateBucket(g *gen, tx *bolt.Tx, m *churnModel, p churnProfile) error {
	var parent *churnBucket
	if len(m.buckets) > 0 && g.rng.Intn(2) == 0 {
		parent = m.buckets[g.rng.Intn(len(m.buckets))]
		if len(parent.path) >= p.maxDepth {
			parent = nil
		}
	}
	var path [][]byte
	if parent == nil {
		path = [][]byte{[]byte(fmt.Sprintf("top-%02d", g.rng.Intn(12)))}
	} else {
		path = append(append([][]byte{}, parent.path...), []byte(fmt.Sprintf("sub-%02d", g.rng.Intn(8))))
	}
	if _, err := g.bucketB(tx, path...); err != nil {
		return err
	}
	if m.find(path) == nil {
		m.buckets = append(m.buckets, &churnBucket{path: path, index: map[string]int{}})
	}
	return nil
}

func buildRangeDeletes(g *gen) error {
	err := g.update(func(tx *bolt.Tx) error {
		b, err := g.bucket(tx, "events")
		if err != nil {
			return err
		}
		if err := putAll(b, 5000, "evt-%06d", func(int) []byte { return g.randText(g.between(4, 12)) }); err != nil {
			return err
		}
		w, err := g.bucket(tx, "wipe")
		if err != nil {
			return err
		}
		return putAll(w, 300, "w-%04d", func(int) []byte { return g.randText(20) })
	})
	if err != nil {
		return err
	}
	key := func(i int) []byte { return []byte(fmt.Sprintf("evt-%06d", i)) }
	steps := []func(b *bolt.Bucket) error{
		func(b *bolt.Bucket) error { // [600, 1800) with a cursor
			c := b.Cursor()
			for k, _ := c.Seek(key(600)); k != nil && bytes.Compare(k, key(1800)) < 0; k, _ = c.Seek(key(600)) {
				if err := c.Delete(); err != nil {
					return err
				}
			}
			return nil
		},
		func(b *bolt.Bucket) error { // [3000, 3150) key by key
			for i := 3000; i < 3150; i++ {
				if err := b.Delete(key(i)); err != nil {
					return err
				}
			}
			return nil
		},
		func(b *bolt.Bucket) error { // every other key of [3600, 4200)
			for i := 3600; i < 4200; i += 2 {
				if err := b.Delete(key(i)); err != nil {
					return err
				}
			}
			return nil
		},
		func(b *bolt.Bucket) error { // the tail, from the last key backwards
			c := b.Cursor()
			for k, _ := c.Last(); k != nil && bytes.Compare(k, key(4900)) >= 0; k, _ = c.Last() {
				if err := c.Delete(); err != nil {
					return err
				}
			}
			return nil
		},
		func(b *bolt.Bucket) error { // a range that is already gone, and a missing key
			for i := 900; i < 1000; i++ {
				if err := b.Delete(key(i)); err != nil {
					return err
				}
			}
			return b.Delete([]byte("no-such-key"))
		},
	}
	for _, step := range steps {
		if err := g.update(func(tx *bolt.Tx) error { return step(g.lookup(tx, []byte("events"))) }); err != nil {
			return err
		}
	}
	return g.update(func(tx *bolt.Tx) error {
		w := g.lookup(tx, []byte("wipe"))
		for i := 0; i < 300; i++ {
			if err := w.Delete([]byte(fmt.Sprintf("w-%04d", i))); err != nil {
				return err
			}
		}
		return nil
	})
}

func buildPendingPages(g *gen) error {
	const n = 1200
	key := func(i int) []byte { return []byte(fmt.Sprintf("rec-%05d", i)) }
	err := g.update(func(tx *bolt.Tx) error {
		b, err := g.bucket(tx, "data")
		if err != nil {
			return err
		}
		return putAll(b, n, "rec-%05d", func(int) []byte { return g.randText(g.between(20, 60)) })
	})
	if err != nil {
		return err
	}
	reader, err := g.db.Begin(false)
	if err != nil {
		return err
	}
	for round := 0; round < 6; round++ {
		err := g.update(func(tx *bolt.Tx) error {
			b := g.lookup(tx, []byte("data"))
			// Each round works on its own window of keys, so that the
			// file stays within the initial mapping (a remap would wait
			// for the reader).
			base := round * 200
			for i := 0; i < 100; i++ {
				if err := b.Put(key(base+g.rng.Intn(200)), g.randText(g.between(20, 60))); err != nil {
					return err
				}
			}
			for i := 0; i < 30; i++ {
				if err := b.Delete(key(base + g.rng.Intn(200))); err != nil {
					return err
				}
			}
			l, err := g.bucket(tx, "log")
			if err != nil {
				return err
			}
			seq, err := l.NextSequence()
			if err != nil {
				return err
			}
			return l.Put([]byte(fmt.Sprintf("round-%03d", seq)), g.randText(200))
		})
		if err != nil {
			reader.Rollback()
			return err
		}
	}
	// The reader still sees the first state.
	if got := reader.Bucket([]byte("log")); got != nil {
		reader.Rollback()
		return fmt.Errorf("reader sees later writes")
	}
	return reader.Rollback()
}
