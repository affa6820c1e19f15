package main

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Builds of the fixtures that vary an option: page size and fill percent.

// buildPageSize writes the same kind of content at any page size; values
// and key counts scale with the page size so that each file has branch
// pages, overflow pages and non-inline nested buckets.
func buildPageSize(g *gen) error {
	ps := g.db.Info().PageSize
	const n = 700
	key := func(i int) []byte { return []byte(fmt.Sprintf("item-%05d", i)) }
	err := g.update(func(tx *bolt.Tx) error {
		b, err := g.bucket(tx, "items")
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if err := b.Put(key(i), g.randText(g.between(8, 40))); err != nil {
				return err
			}
		}
		blobs, err := g.bucket(tx, "blobs")
		if err != nil {
			return err
		}
		for i, size := range []int{ps / 2, ps*2 + ps/2} {
			if err := blobs.Put([]byte(fmt.Sprintf("blob-%d", i)), g.randBytes(size)); err != nil {
				return err
			}
		}
		// A big value alone in its bucket, written once (its leaf spans
		// several pages and would be rewritten whole with any change).
		big, err := g.bucket(tx, "big")
		if err != nil {
			return err
		}
		size := ps * 4
		if ps == 65536 {
			size = 200 << 10
		}
		if err := big.Put([]byte("value"), g.randBytes(size)); err != nil {
			return err
		}
		// Nested: a non-inline bucket three levels down holding a value
		// larger than a page, next to small inline siblings.
		deep, err := g.bucket(tx, "tree", "branch", "leaf")
		if err != nil {
			return err
		}
		if err := deep.Put([]byte("big"), g.randBytes(ps+ps/4)); err != nil {
			return err
		}
		for i := 0; i < 20; i++ {
			if err := deep.Put([]byte(fmt.Sprintf("small-%02d", i)), g.randText(10)); err != nil {
				return err
			}
		}
		for i := 0; i < 5; i++ {
			sib, err := g.bucket(tx, "tree", "branch", fmt.Sprintf("sibling-%d", i))
			if err != nil {
				return err
			}
			if err := sib.Put([]byte("k"), []byte(fmt.Sprint(i))); err != nil {
				return err
			}
			if err := sib.SetSequence(uint64(i * 1000)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Deletes and overwrites in a second transaction.
	return g.update(func(tx *bolt.Tx) error {
		b := g.lookup(tx, []byte("items"))
		for i := 0; i < n; i += 4 {
			if err := b.Delete(key(i)); err != nil {
				return err
			}
		}
		for i := 1; i < n; i += 10 {
			if err := b.Put(key(i), g.randText(g.between(8, 40))); err != nil {
				return err
			}
		}
		blobs := g.lookup(tx, []byte("blobs"))
		return blobs.Put([]byte("blob-1"), g.randBytes(ps*3))
	})
}

// buildFill writes the same content whatever the fill percent (g.fill is
// set on every bucket by g.bucket and g.lookup).
func buildFill(g *gen) error {
	err := g.update(func(tx *bolt.Tx) error {
		b, err := g.bucket(tx, "seq")
		if err != nil {
			return err
		}
		return putAll(b, 1500, "seq-%05d", func(int) []byte { return g.randText(12) })
	})
	if err != nil {
		return err
	}
	perm := g.rng.Perm(900)
	for part := 0; part < 3; part++ {
		err := g.update(func(tx *bolt.Tx) error {
			b, err := g.bucket(tx, "rand")
			if err != nil {
				return err
			}
			for _, i := range perm[part*300 : (part+1)*300] {
				if err := b.Put([]byte(fmt.Sprintf("r-%05d", i*7)), g.randText(g.between(4, 30))); err != nil {
					return err
				}
			}
			c, err := g.bucket(tx, "nested", "child")
			if err != nil {
				return err
			}
			for i := 0; i < 60; i++ {
				if err := c.Put([]byte(fmt.Sprintf("c-%d-%03d", part, i)), g.randText(8)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
