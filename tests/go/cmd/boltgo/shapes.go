package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand"
	"os"

	bolt "go.etcd.io/bbolt"
)

// boltgo gen-shape SHAPE FILE [--scale F]: a database shaped like the ones
// real programs write, for the field benchmarks (benchmarks/field.py).  The
// same arguments always give the same file: every random choice comes from a
// seeded math/rand, and nothing iterates a Go map.
//
//	etcd        an etcd 3.4 member store: the 10 buckets of etcd's backend;
//	            "key" holds 17-byte revision keys (main and sub as big-endian
//	            uint64 around '_') with protobuf-encoded mvccpb.KeyValue
//	            values of 50 B to 300 kB, written as etcd's batch transaction
//	            does (appends, FillPercent 0.9), with overwrite churn and
//	            compactions (range deletes of superseded revisions);
//	            NoFreelistSync, as etcd opens its backend.  ~110 MB at scale 1.
//	raft        a raft-boltdb log store: "logs" holds uint64 big-endian
//	            indexes with 1-64 kB values (overflow pages), appended in
//	            batches and truncated from the head by range deletes; "conf"
//	            holds the term and vote.  ~130 MB at scale 1.
//	containerd  a containerd meta.db: v1/<namespace>/{content,images,
//	            containers,snapshots,leases}/... with tens of thousands of
//	            small nested buckets, most of them inline.  ~110 MB at scale 1.
//
// It prints {"shape", "file", "size", "keys"} on success.

func cmdGenShape(args []string) int {
	if len(args) < 2 {
		return usageError("gen-shape needs SHAPE FILE")
	}
	shape, path := args[0], args[1]
	fs := flag.NewFlagSet("gen-shape", flag.ContinueOnError)
	scale := fs.Float64("scale", 1, "size factor")
	if err := fs.Parse(args[2:]); err != nil {
		return 2
	}
	_ = os.Remove(path)
	var gen func(*bolt.DB, float64) (int, error)
	opts := &bolt.Options{NoSync: true}
	switch shape {
	case "etcd":
		gen = genEtcd
		opts.NoFreelistSync = true
		// etcd 3.4 defaults to the hashmap freelist, whose Go map order makes
		// page allocation differ run to run; the array freelist keeps this file
		// the same every time (the on-disk format is the same).
	case "raft":
		gen = genRaft
	case "containerd":
		gen = genContainerd
	default:
		return usageError("unknown shape %q (etcd, raft, containerd)", shape)
	}
	db, err := bolt.Open(path, 0o600, opts)
	if err != nil {
		return printError(err.Error())
	}
	keys, err := gen(db, *scale)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return printError(err.Error())
	}
	st, err := os.Stat(path)
	if err != nil {
		return printError(err.Error())
	}
	printJSON(map[string]any{"shape": shape, "file": path, "size": st.Size(), "keys": keys})
	return 0
}

// filler returns n deterministic bytes drawn from r (compressible like real
// payloads: runs of printable text).
func filler(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; {
		c := byte('a' + r.Intn(26))
		run := 1 + r.Intn(12)
		for j := 0; j < run && i < n; j++ {
			b[i] = c
			i++
		}
	}
	return b
}

// protoVarint appends field number f with wire type 0 (varint) and value v.
func protoVarint(b []byte, f int, v uint64) []byte {
	b = binary.AppendUvarint(b, uint64(f<<3))
	return binary.AppendUvarint(b, v)
}

// protoBytes appends field number f with wire type 2 (length-delimited).
func protoBytes(b []byte, f int, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(f<<3|2))
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// etcdValueSize draws a value size: mostly small, some kB, a few large.
func etcdValueSize(r *rand.Rand) int {
	switch p := r.Intn(1000); {
	case p < 930:
		return 50 + r.Intn(350)
	case p < 995:
		return 1000 + r.Intn(7000)
	default:
		return 10000 + r.Intn(290000)
	}
}

func revKey(main, sub uint64) []byte {
	k := make([]byte, 17)
	binary.BigEndian.PutUint64(k, main)
	k[8] = '_'
	binary.BigEndian.PutUint64(k[9:], sub)
	return k
}

func genEtcd(db *bolt.DB, scale float64) (int, error) {
	r := rand.New(rand.NewSource(3))
	names := []string{"key", "meta", "lease", "alarm", "cluster", "members",
		"members_removed", "auth", "authUsers", "authRoles"}
	err := db.Update(func(tx *bolt.Tx) error {
		for _, n := range names {
			if _, err := tx.CreateBucketIfNotExists([]byte(n)); err != nil {
				return err
			}
		}
		c := tx.Bucket([]byte("cluster"))
		if err := c.Put([]byte("clusterVersion"), []byte("3.4.0")); err != nil {
			return err
		}
		m := tx.Bucket([]byte("members"))
		for i := 0; i < 3; i++ {
			id := fmt.Sprintf("%016x", r.Uint64())
			v := fmt.Sprintf(`{"id":%d,"peerURLs":["http://127.0.0.1:%d"]}`, r.Uint32(), 2380+i)
			if err := m.Put([]byte(id), []byte(v)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	// A key space of user keys; each put is a new revision of one of them.
	userKeys := int(20000 * scale)
	if userKeys < 10 {
		userKeys = 10
	}
	revisions := int(100000 * scale)
	created := make([]uint64, userKeys)
	version := make([]uint64, userKeys)
	lastRev := make([]uint64, userKeys)
	var rev uint64 = 1
	var leases []uint64
	const batch = 1000
	compactEvery := revisions / 3
	var compacted uint64
	for done := 0; done < revisions; {
		err := db.Update(func(tx *bolt.Tx) error {
			kb := tx.Bucket([]byte("key"))
			kb.FillPercent = 0.9 // etcd's UnsafeSeqPut
			lb := tx.Bucket([]byte("lease"))
			for i := 0; i < batch && done < revisions; i++ {
				rev++
				done++
				u := r.Intn(userKeys)
				if created[u] == 0 {
					created[u] = rev
				}
				version[u]++
				lastRev[u] = rev
				var lease uint64
				if r.Intn(20) == 0 {
					lease = uint64(r.Int63())
					leases = append(leases, lease)
					lk := make([]byte, 8)
					binary.BigEndian.PutUint64(lk, lease)
					lv := protoVarint(protoVarint(nil, 1, lease), 2, uint64(60+r.Intn(600)))
					if err := lb.Put(lk, lv); err != nil {
						return err
					}
				}
				v := protoBytes(nil, 1, []byte(fmt.Sprintf("/registry/pods/ns-%d/pod-%06d", u%50, u)))
				v = protoVarint(v, 2, created[u])
				v = protoVarint(v, 3, rev)
				v = protoVarint(v, 4, version[u])
				v = protoBytes(v, 5, filler(r, etcdValueSize(r)))
				if lease != 0 {
					v = protoVarint(v, 6, lease)
				}
				if err := kb.Put(revKey(rev, 0), v); err != nil {
					return err
				}
			}
			meta := tx.Bucket([]byte("meta"))
			ci := make([]byte, 8)
			binary.BigEndian.PutUint64(ci, rev)
			return meta.Put([]byte("consistent_index"), ci)
		})
		if err != nil {
			return 0, err
		}
		if compactEvery > 0 && done%compactEvery < batch && done >= compactEvery && done < revisions {
			// Compaction: drop every revision below the current one that a
			// later revision of the same user key superseded.
			keep := make(map[uint64]bool, userKeys)
			for _, lr := range lastRev {
				keep[lr] = true
			}
			err := db.Update(func(tx *bolt.Tx) error {
				kb := tx.Bucket([]byte("key"))
				c := kb.Cursor()
				for k, _ := c.Seek(revKey(compacted, 0)); k != nil; k, _ = c.Next() {
					main := binary.BigEndian.Uint64(k)
					if main >= rev {
						break
					}
					if !keep[main] {
						if err := c.Delete(); err != nil {
							return err
						}
					}
				}
				compacted = rev
				meta := tx.Bucket([]byte("meta"))
				cr := make([]byte, 8)
				binary.BigEndian.PutUint64(cr, rev)
				if err := meta.Put([]byte("scheduledCompactRev"), cr); err != nil {
					return err
				}
				return meta.Put([]byte("finishedCompactRev"), cr)
			})
			if err != nil {
				return 0, err
			}
		}
	}
	var keys int
	err = db.View(func(tx *bolt.Tx) error {
		keys = tx.Bucket([]byte("key")).Stats().KeyN
		return nil
	})
	return keys, err
}

func genRaft(db *bolt.DB, scale float64) (int, error) {
	r := rand.New(rand.NewSource(5))
	err := db.Update(func(tx *bolt.Tx) error {
		for _, n := range []string{"logs", "conf"} {
			if _, err := tx.CreateBucketIfNotExists([]byte(n)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	total := int(9000 * scale)
	keep := int(3000 * scale)
	var index, first uint64 = 0, 1
	var term uint64 = 1
	for index < uint64(total) {
		n := 1 + r.Intn(64) // StoreLogs batch
		err := db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("logs"))
			for i := 0; i < n && index < uint64(total); i++ {
				index++
				if r.Intn(500) == 0 {
					term++
				}
				k := make([]byte, 8)
				binary.BigEndian.PutUint64(k, index)
				// A msgpack map header, the fixed fields, then the payload.
				v := []byte{0x86}
				v = append(v, filler(r, 1024+r.Intn(63*1024))...)
				if err := b.Put(k, v); err != nil {
					return err
				}
			}
			conf := tx.Bucket([]byte("conf"))
			t := make([]byte, 8)
			binary.BigEndian.PutUint64(t, term)
			if err := conf.Put([]byte("CurrentTerm"), t); err != nil {
				return err
			}
			if err := conf.Put([]byte("LastVoteTerm"), t); err != nil {
				return err
			}
			return conf.Put([]byte("LastVoteCand"), []byte("127.0.0.1:8300"))
		})
		if err != nil {
			return 0, err
		}
		// Snapshot and truncate: DeleteRange(first, index-keep).
		if index-first+1 > uint64(keep)+1500 {
			upto := index - uint64(keep)
			err := db.Update(func(tx *bolt.Tx) error {
				c := tx.Bucket([]byte("logs")).Cursor()
				min := make([]byte, 8)
				binary.BigEndian.PutUint64(min, first)
				for k, _ := c.Seek(min); k != nil; k, _ = c.Next() {
					if binary.BigEndian.Uint64(k) > upto {
						break
					}
					if err := c.Delete(); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return 0, err
			}
			first = upto + 1
		}
	}
	var keys int
	err = db.View(func(tx *bolt.Tx) error {
		keys = tx.Bucket([]byte("logs")).Stats().KeyN
		return nil
	})
	return keys, err
}

func genContainerd(db *bolt.DB, scale float64) (int, error) {
	r := rand.New(rand.NewSource(7))
	digest := func() []byte {
		return []byte(fmt.Sprintf("sha256:%016x%016x%016x%016x", r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64()))
	}
	ts := func() []byte {
		b := make([]byte, 15) // a time.Time MarshalBinary
		b[0] = 1
		binary.BigEndian.PutUint64(b[1:], 63_800_000_000+uint64(r.Intn(1<<24)))
		return b
	}
	put := func(b *bolt.Bucket, k string, v []byte) error { return b.Put([]byte(k), v) }
	blobs := int(8000 * scale)
	images := int(800 * scale)
	snapshots := int(3200 * scale)
	containers := int(1200 * scale)
	namespaces := []string{"default", "k8s.io", "moby"}
	keys := 0
	const perTx = 500
	for _, ns := range namespaces {
		for i := 0; i < blobs; i += perTx {
			err := db.Update(func(tx *bolt.Tx) error {
				v1, err := tx.CreateBucketIfNotExists([]byte("v1"))
				if err != nil {
					return err
				}
				if err := v1.Put([]byte("version"), []byte{3}); err != nil {
					return err
				}
				nsb, err := v1.CreateBucketIfNotExists([]byte(ns))
				if err != nil {
					return err
				}
				if i == 0 {
					l, err := nsb.CreateBucketIfNotExists([]byte("labels"))
					if err != nil {
						return err
					}
					if err := put(l, "containerd.io/namespace.shareable", []byte("true")); err != nil {
						return err
					}
				}
				content, err := nsb.CreateBucketIfNotExists([]byte("content"))
				if err != nil {
					return err
				}
				blobb, err := content.CreateBucketIfNotExists([]byte("blob"))
				if err != nil {
					return err
				}
				for j := i; j < i+perTx && j < blobs; j++ {
					b, err := blobb.CreateBucket(digest())
					if err != nil {
						return err
					}
					size := make([]byte, binary.MaxVarintLen64)
					size = size[:binary.PutVarint(size, int64(r.Intn(1<<26)))]
					for _, kv := range []struct {
						k string
						v []byte
					}{{"createdat", ts()}, {"updatedat", ts()}, {"size", size}} {
						if err := put(b, kv.k, kv.v); err != nil {
							return err
						}
						keys++
					}
					if r.Intn(4) == 0 {
						l, err := b.CreateBucket([]byte("labels"))
						if err != nil {
							return err
						}
						if err := put(l, "containerd.io/gc.ref.content.l.0", digest()); err != nil {
							return err
						}
						keys++
					}
				}
				if i > 0 {
					return nil
				}
				// The rest of the namespace once, with the first blobs.
				imgs, err := nsb.CreateBucketIfNotExists([]byte("images"))
				if err != nil {
					return err
				}
				for j := 0; j < images; j++ {
					name := fmt.Sprintf("docker.io/library/app-%05d:v%d", j, r.Intn(20))
					b, err := imgs.CreateBucket([]byte(name))
					if err != nil {
						return err
					}
					if err := put(b, "createdat", ts()); err != nil {
						return err
					}
					if err := put(b, "updatedat", ts()); err != nil {
						return err
					}
					t, err := b.CreateBucket([]byte("target"))
					if err != nil {
						return err
					}
					if err := put(t, "digest", digest()); err != nil {
						return err
					}
					if err := put(t, "mediatype", []byte("application/vnd.oci.image.index.v1+json")); err != nil {
						return err
					}
					keys += 4
				}
				snaps, err := nsb.CreateBucketIfNotExists([]byte("snapshots"))
				if err != nil {
					return err
				}
				ovl, err := snaps.CreateBucketIfNotExists([]byte("overlayfs"))
				if err != nil {
					return err
				}
				for j := 0; j < snapshots; j++ {
					b, err := ovl.CreateBucket(digest())
					if err != nil {
						return err
					}
					if err := put(b, "name", []byte(fmt.Sprintf("%s/%d/%s", ns, j, digest()))); err != nil {
						return err
					}
					if j > 0 {
						if err := put(b, "parent", digest()); err != nil {
							return err
						}
					}
					ch, err := b.CreateBucket([]byte("children"))
					if err != nil {
						return err
					}
					if err := put(ch, string(digest()), nil); err != nil {
						return err
					}
					keys += 3
				}
				ctrs, err := nsb.CreateBucketIfNotExists([]byte("containers"))
				if err != nil {
					return err
				}
				for j := 0; j < containers; j++ {
					b, err := ctrs.CreateBucket([]byte(fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64())))
					if err != nil {
						return err
					}
					if err := put(b, "image", []byte(fmt.Sprintf("docker.io/library/app-%05d:v1", r.Intn(images+1)))); err != nil {
						return err
					}
					if err := put(b, "snapshotter", []byte("overlayfs")); err != nil {
						return err
					}
					if err := put(b, "spec", filler(r, 2000+r.Intn(6000))); err != nil {
						return err
					}
					keys += 3
				}
				leases, err := nsb.CreateBucketIfNotExists([]byte("leases"))
				if err != nil {
					return err
				}
				_, err = leases.CreateBucketIfNotExists([]byte("gc-lease"))
				return err
			})
			if err != nil {
				return 0, err
			}
		}
	}
	return keys, nil
}
