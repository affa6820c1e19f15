package main

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Builds of the structural fixtures: buckets, nesting, binary keys, large
// values and large key counts.

func buildInlineBucket(g *gen) error {
	return g.update(func(tx *bolt.Tx) error {
		b, err := g.bucket(tx, "settings")
		if err != nil {
			return err
		}
		for _, kv := range [][2]string{{"color", "blue"}, {"size", "large"}, {"weight", "1.5kg"}, {"empty", ""}} {
			if err := b.Put([]byte(kv[0]), []byte(kv[1])); err != nil {
				return err
			}
		}
		return nil
	})
}

func buildManyBuckets(g *gen) error {
	const n = 150
	order := g.rng.Perm(n)
	names := func(i int) string { return fmt.Sprintf("bucket-%03d", i) }
	// Created over three transactions, in random order.
	for part := 0; part < 3; part++ {
		err := g.update(func(tx *bolt.Tx) error {
			for _, i := range order[part*n/3 : (part+1)*n/3] {
				b, err := g.bucket(tx, names(i))
				if err != nil {
					return err
				}
				var count, vmax int
				switch i % 10 {
				case 0, 1: // empty
				case 2, 3, 4, 5: // a few small keys: inline
					count, vmax = g.between(1, 8), 16
				case 6, 7, 8: // one leaf page of its own
					count, vmax = g.between(25, 50), 30
				case 9: // a branch root for one in three
					if i%30 == 9 {
						count, vmax = g.between(300, 450), 60
					} else {
						count, vmax = g.between(10, 30), 24
					}
				}
				for j := 0; j < count; j++ {
					v := g.randText(g.between(0, vmax))
					if err := b.Put([]byte(fmt.Sprintf("key-%04d", j)), v); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	// A few odd names.
	err := g.update(func(tx *bolt.Tx) error {
		for _, name := range []string{"a", "Bucket-Upper", "zz-last", "with space"} {
			b, err := g.bucket(tx, name)
			if err != nil {
				return err
			}
			if err := b.Put([]byte("name"), []byte(name)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Delete some buckets, empty others out (they become inline again).
	return g.update(func(tx *bolt.Tx) error {
		for _, i := range []int{3, 17, 29, 44, 58, 61, 89, 99, 120, 149} {
			if err := tx.DeleteBucket([]byte(names(i))); err != nil {
				return fmt.Errorf("delete %s: %w", names(i), err)
			}
		}
		for _, i := range []int{6, 19, 77, 108} {
			b := g.lookup(tx, []byte(names(i)))
			c := b.Cursor()
			for k, _ := c.First(); k != nil; k, _ = c.First() {
				if err := c.Delete(); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func buildNested(g *gen) error {
	small := func(b *bolt.Bucket, n int, prefix string) error {
		for i := 0; i < n; i++ {
			if err := b.Put([]byte(fmt.Sprintf("%s-%03d", prefix, i)), g.randText(g.between(1, 24))); err != nil {
				return err
			}
		}
		return nil
	}
	// 1: the structure.
	err := g.update(func(tx *bolt.Tx) error {
		org, err := g.bucket(tx, "org")
		if err != nil {
			return err
		}
		if err := small(org, 100, "member"); err != nil {
			return err
		}
		for i := 0; i < 5; i++ {
			if _, err := org.NextSequence(); err != nil {
				return err
			}
		}
		teamA, err := g.bucket(tx, "org", "team-a")
		if err != nil {
			return err
		}
		if err := small(teamA, 3, "k"); err != nil {
			return err
		}
		if err := teamA.SetSequence(42); err != nil {
			return err
		}
		px, err := g.bucket(tx, "org", "team-a", "project-x")
		if err != nil {
			return err
		}
		if err := small(px, 200, "item"); err != nil {
			return err
		}
		tasks, err := g.bucket(tx, "org", "team-a", "project-x", "tasks")
		if err != nil {
			return err
		}
		if err := small(tasks, 2, "task"); err != nil {
			return err
		}
		for i := 0; i < 3; i++ {
			if _, err := tasks.NextSequence(); err != nil {
				return err
			}
		}
		sub, err := g.bucket(tx, "org", "team-a", "project-x", "tasks", "subtasks")
		if err != nil {
			return err
		}
		if err := sub.Put([]byte("only"), []byte("one key at level 5")); err != nil {
			return err
		}
		if err := sub.SetSequence(^uint64(0)); err != nil {
			return err
		}
		if _, err := g.bucket(tx, "org", "team-a", "project-x", "tasks", "subtasks", "deep"); err != nil {
			return err
		}
		archive, err := g.bucket(tx, "org", "team-a", "project-x", "archive")
		if err != nil {
			return err
		}
		for i := 0; i < 3; i++ {
			if err := archive.Put([]byte(fmt.Sprintf("blob-%d", i)), g.randBytes(3000+i*1500)); err != nil {
				return err
			}
		}
		if _, err := g.bucket(tx, "org", "team-a", "project-y"); err != nil {
			return err
		}
		// team-b: keys and sub-buckets interleaved in key order.
		teamB, err := g.bucket(tx, "org", "team-b")
		if err != nil {
			return err
		}
		for _, p := range []string{"a", "m", "z"} {
			if err := small(teamB, 30, p); err != nil {
				return err
			}
		}
		for _, name := range []string{"b-bucket", "m-bucket", "y-bucket"} {
			sb, err := g.bucket(tx, "org", "team-b", name)
			if err != nil {
				return err
			}
			if err := small(sb, 2, name); err != nil {
				return err
			}
		}
		l5, err := g.bucket(tx, "org", "team-b", "level3", "level4", "level5")
		if err != nil {
			return err
		}
		if err := l5.SetSequence(1 << 40); err != nil {
			return err
		}
		if err := small(l5, 1, "leaf"); err != nil {
			return err
		}
		cfg, err := g.bucket(tx, "config")
		if err != nil {
			return err
		}
		if err := small(cfg, 4, "opt"); err != nil {
			return err
		}
		if _, err := g.bucket(tx, "config", "nested-empty"); err != nil {
			return err
		}
		for i := 0; i < 60; i++ {
			u, err := g.bucket(tx, "users", fmt.Sprintf("user-%03d", i))
			if err != nil {
				return err
			}
			if err := small(u, g.between(2, 5), "field"); err != nil {
				return err
			}
			for j := 0; j < i%4; j++ {
				if _, err := u.NextSequence(); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// 2: grow inline buckets past the inline limit.
	err = g.update(func(tx *bolt.Tx) error {
		tasks := g.lookup(tx, []byte("org"), []byte("team-a"), []byte("project-x"), []byte("tasks"))
		if err := small(tasks, 80, "more"); err != nil {
			return err
		}
		u := g.lookup(tx, []byte("users"), []byte("user-007"))
		if err := small(u, 150, "extra"); err != nil {
			return err
		}
		if _, err := tasks.NextSequence(); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	// 3: shrink a non-inline bucket back to inline, drop a subtree.
	return g.update(func(tx *bolt.Tx) error {
		teamB := g.lookup(tx, []byte("org"), []byte("team-b"))
		for _, p := range []string{"a", "z"} {
			for i := 0; i < 30; i++ {
				if err := teamB.Delete([]byte(fmt.Sprintf("%s-%03d", p, i))); err != nil {
					return err
				}
			}
		}
		u := g.lookup(tx, []byte("users"))
		for _, name := range []string{"user-013", "user-014", "user-050"} {
			if err := u.DeleteBucket([]byte(name)); err != nil {
				return err
			}
		}
		teamA := g.lookup(tx, []byte("org"), []byte("team-a"))
		return teamA.DeleteBucket([]byte("project-y"))
	})
}

func buildBinaryKeys(g *gen) error {
	err := g.update(func(tx *bolt.Tx) error {
		// Every one-byte key and the two-byte keys 00 xx.
		b, err := g.bucket(tx, "all-bytes")
		if err != nil {
			return err
		}
		for i := 0; i < 256; i++ {
			if err := b.Put([]byte{byte(i)}, []byte{byte(i), byte(255 - i)}); err != nil {
				return err
			}
			if err := b.Put([]byte{0, byte(i)}, []byte{}); err != nil {
				return err
			}
		}
		// Keys at and near the maximum key size.
		mk, err := g.bucket(tx, "max-key")
		if err != nil {
			return err
		}
		for i := 0; i < 3; i++ {
			k := g.randBytes(bolt.MaxKeySize)
			if err := mk.Put(k, []byte(fmt.Sprintf("max size key %d", i))); err != nil {
				return err
			}
		}
		if err := mk.Put(g.randBytes(bolt.MaxKeySize), []byte{}); err != nil {
			return err
		}
		if err := mk.Put(g.randText(bolt.MaxKeySize-1), []byte("one below max")); err != nil {
			return err
		}
		if err := mk.Put(g.randText(5000), g.randBytes(5000)); err != nil {
			return err
		}
		// Empty values.
		ev, err := g.bucket(tx, "empty-values")
		if err != nil {
			return err
		}
		if err := putAll(ev, 200, "ev-%04d", func(int) []byte { return []byte{} }); err != nil {
			return err
		}
		if err := ev.Put([]byte("not-empty"), []byte("x")); err != nil {
			return err
		}
		// Valid and invalid UTF-8 keys and values.
		u, err := g.bucket(tx, "utf8")
		if err != nil {
			return err
		}
		for _, k := range []string{
			"café", "日本語", "emoji 😀", "ascii", "tab\tand\nnewline",
			"\xff", "\xfe\xff", "\xc0\xaf", "\xed\xa0\x80", "\x80lone", "trunc\xe6\x97",
		} {
			if err := u.Put([]byte(k), []byte("v:"+k+"\xff")); err != nil {
				return err
			}
		}
		// Ordering of prefixes and high bytes.
		po, err := g.bucket(tx, "prefix-order")
		if err != nil {
			return err
		}
		for _, k := range []string{"a", "a\x00", "a\x00\x00", "aa", "a\xff", "b", "\x7f", "\x80", "\xff\xff\xff"} {
			if err := po.Put([]byte(k), []byte(k)); err != nil {
				return err
			}
		}
		// Unusual bucket names.
		for _, name := range []string{"\x00\x01\x02", "\xff\xfe-invalid-utf8", "名前", "with space", "\x00"} {
			nb, err := g.bucket(tx, name)
			if err != nil {
				return err
			}
			if err := nb.Put([]byte("bucket"), []byte(name)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Random binary pairs over two transactions, some deleted.
	var keys [][]byte
	for round := 0; round < 2; round++ {
		err := g.update(func(tx *bolt.Tx) error {
			rb, err := g.bucket(tx, "random-binary")
			if err != nil {
				return err
			}
			for i := 0; i < 250; i++ {
				k := g.randBytes(g.between(1, 64))
				keys = append(keys, k)
				if err := rb.Put(k, g.randBytes(g.between(0, 300))); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return g.update(func(tx *bolt.Tx) error {
		rb := g.lookup(tx, []byte("random-binary"))
		for i := 0; i < len(keys); i += 7 {
			if err := rb.Delete(keys[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func buildOverflow(g *gen) error {
	// A value is stored inside its leaf page, which then spans several
	// pages; every commit that changes a key of that leaf rewrites it whole.
	// So the 1 MB value sits alone in its own bucket and is written once.
	err := g.update(func(tx *bolt.Tx) error {
		huge, err := g.bucket(tx, "huge")
		if err != nil {
			return err
		}
		if err := huge.Put([]byte("blob-1m"), g.randBytes(1<<20)); err != nil {
			return err
		}
		b, err := g.bucket(tx, "blobs")
		if err != nil {
			return err
		}
		for _, kv := range []struct {
			k string
			n int
		}{{"blob-10k", 10 << 10}, {"blob-100k", 100 << 10}, {"v1024", 1024}, {"v1025", 1025}, {"small", 5}} {
			if err := b.Put([]byte(kv.k), g.randBytes(kv.n)); err != nil {
				return err
			}
		}
		nb, err := g.bucket(tx, "blobs", "nested")
		if err != nil {
			return err
		}
		if err := nb.Put([]byte("blob-20k"), g.randBytes(20<<10)); err != nil {
			return err
		}
		return nb.Put([]byte("tiny"), []byte("t"))
	})
	if err != nil {
		return err
	}
	steps := []func(tx *bolt.Tx) error{
		func(tx *bolt.Tx) error { // overwrite a large value
			return g.lookup(tx, []byte("blobs")).Put([]byte("blob-100k"), g.randBytes(100<<10))
		},
		func(tx *bolt.Tx) error { // two more megabytes in one leaf...
			b, err := g.bucket(tx, "scratch")
			if err != nil {
				return err
			}
			if err := b.Put([]byte("tmp-a"), g.randBytes(1<<20)); err != nil {
				return err
			}
			return b.Put([]byte("tmp-b"), g.randBytes(1<<20))
		},
		func(tx *bolt.Tx) error { // ...freed again: a freelist of 500+ ids
			b := g.lookup(tx, []byte("scratch"))
			if err := b.Delete([]byte("tmp-a")); err != nil {
				return err
			}
			return b.Delete([]byte("tmp-b"))
		},
	}
	for _, step := range steps {
		if err := g.update(step); err != nil {
			return err
		}
	}
	return nil
}

func buildManyKeys(g *gen) error {
	const n, perTx = 55000, 11000
	for start := 0; start < n; start += perTx {
		err := g.update(func(tx *bolt.Tx) error {
			b, err := g.bucket(tx, "keys")
			if err != nil {
				return err
			}
			for i := start; i < start+perTx; i++ {
				v := make([]byte, 4)
				binary.BigEndian.PutUint32(v, uint32(g.rng.Int31()))
				if err := b.Put([]byte(fmt.Sprintf("k%07d", i)), v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return g.update(func(tx *bolt.Tx) error {
		b, err := g.bucket(tx, "meta")
		if err != nil {
			return err
		}
		if err := b.Put([]byte("count"), []byte(fmt.Sprint(n))); err != nil {
			return err
		}
		return b.Put([]byte("format"), []byte("k%07d -> random uint32 BE"))
	})
}
