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
//	            holds the term and vote.  ~160 MB at scale 1.
//	containerd  a containerd 1.6 meta.db: v1/<namespace>/{content/blob,
//	            images,snapshots/overlayfs,containers,leases}/... as pulling
//	            images and creating containers leaves it: tens of thousands
//	            of small nested buckets, most of them inline; every blob with
//	            its labels.  ~120 MB at scale 1.
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

// kv is one pair of a containerd record; a nil value with sub set is a
// nested bucket of those pairs.
type kv struct {
	k   string
	v   []byte
	sub []kv
}

// putRecord writes the pairs (and nested buckets) of one record into b and
// returns how many key/value pairs it wrote.
func putRecord(b *bolt.Bucket, rec []kv) (int, error) {
	n := 0
	for _, p := range rec {
		if p.sub == nil {
			if err := b.Put([]byte(p.k), p.v); err != nil {
				return n, err
			}
			n++
			continue
		}
		c, err := b.CreateBucket([]byte(p.k))
		if err != nil {
			return n, err
		}
		m, err := putRecord(c, p.sub)
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// containerdRecord is one item of a containerd namespace: its bucket path
// below v1/<namespace> and its pairs.
type containerdRecord struct {
	path []string
	name string
	rec  []kv
}

// genContainerd writes what containerd 1.6's metadata plugin writes for
// images pulled and unpacked into overlayfs and containers created from them
// (benchmarks/FIELD.md compares it with a real meta.db): per namespace, images
// of three layers (the first shared by a tenth of them), each a manifest, a
// config and two more layer blobs in content/blob, every blob labelled (gc
// references, uncompressed digests), committed snapshot chains with children
// buckets where a snapshot has children, containers with their labels,
// runtime and OCI spec and an active snapshot each, and a few leases.
func genContainerd(db *bolt.DB, scale float64) (int, error) {
	r := rand.New(rand.NewSource(7))
	digest := func() string {
		return fmt.Sprintf("sha256:%016x%016x%016x%016x", r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64())
	}
	ts := func() []byte {
		b := make([]byte, 15) // a time.Time MarshalBinary
		b[0] = 1
		binary.BigEndian.PutUint64(b[1:], 63_800_000_000+uint64(r.Intn(1<<24)))
		return b
	}
	size := func(n int) []byte {
		b := make([]byte, binary.MaxVarintLen64)
		return b[:binary.PutVarint(b, int64(n))]
	}
	times := func(rec ...kv) []kv {
		return append([]kv{{k: "createdat", v: ts()}, {k: "updatedat", v: ts()}}, rec...)
	}
	images := max(1, int(1200*scale))
	containers := int(450 * scale)
	bases := min(10, images)
	keys := 0
	for _, ns := range []string{"default", "k8s.io", "moby"} {
		var recs []containerdRecord
		add := func(name string, rec []kv, path ...string) {
			recs = append(recs, containerdRecord{path, name, rec})
		}
		blob := func(d string, labels ...kv) {
			add(d, times(kv{k: "labels", sub: labels}, kv{k: "size", v: size(200 + r.Intn(1<<26))}),
				"content", "blob")
		}
		for n := 0; n < 3; n++ {
			add(fmt.Sprintf("lease-%d", n), []kv{{k: "createdat", v: ts()},
				{k: "labels", sub: []kv{{k: "purpose", v: []byte(fmt.Sprintf("bench-%d", n))}}}}, "leases")
		}
		// The snapshot chains: a chain ID per layer; children are known once
		// every image and container is placed.
		type snapshot struct {
			key, parent string
			children    []string
		}
		var snaps []*snapshot
		baseLayer := make([]string, bases)
		baseSnap := make([]*snapshot, bases)
		for b := range baseLayer {
			baseLayer[b] = digest()
			baseSnap[b] = &snapshot{key: digest()}
			snaps = append(snaps, baseSnap[b])
			blob(baseLayer[b], kv{k: "containerd.io/uncompressed", v: []byte(digest())})
		}
		top := make([]*snapshot, images)
		for j := 0; j < images; j++ {
			layers := []string{baseLayer[j%bases], digest(), digest()}
			parent := baseSnap[j%bases]
			for _, l := range layers[1:] {
				s := &snapshot{key: digest(), parent: parent.key}
				parent.children = append(parent.children, s.key)
				snaps = append(snaps, s)
				parent = s
				blob(l, kv{k: "containerd.io/uncompressed", v: []byte(digest())})
			}
			top[j] = parent
			config, manifest := digest(), digest()
			blob(config, kv{k: "containerd.io/gc.ref.snapshot.overlayfs", v: []byte(parent.key)})
			refs := []kv{{k: "containerd.io/gc.ref.content.config", v: []byte(config)}}
			for n, l := range layers {
				refs = append(refs, kv{k: fmt.Sprintf("containerd.io/gc.ref.content.l.%d", n), v: []byte(l)})
			}
			blob(manifest, refs...)
			name := fmt.Sprintf("docker.io/library/app-%05d:v%d", j, r.Intn(20))
			add(name, times(
				kv{k: "annotations", sub: []kv{{k: "org.opencontainers.image.ref.name", v: []byte(name)}}},
				kv{k: "target", sub: []kv{{k: "digest", v: []byte(manifest)},
					{k: "mediatype", v: []byte("application/vnd.oci.image.manifest.v1+json")},
					{k: "size", v: size(500 + r.Intn(1500))}}}), "images")
		}
		for c := 0; c < containers; c++ {
			id := fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64())
			j := r.Intn(images)
			s := &snapshot{key: id, parent: top[j].key}
			top[j].children = append(top[j].children, id)
			snaps = append(snaps, s)
			add(id, times(
				kv{k: "image", v: []byte(fmt.Sprintf("docker.io/library/app-%05d:v1", j))},
				kv{k: "labels", sub: []kv{
					{k: "io.containerd.image.config.stop-signal", v: []byte("SIGTERM")},
					{k: "io.kubernetes.pod.name", v: []byte(fmt.Sprintf("pod-%05d", c))},
					{k: "io.kubernetes.pod.namespace", v: []byte(fmt.Sprintf("ns-%d", c%50))},
					{k: "org.opencontainers.image.source", v: []byte(fmt.Sprintf("https://example.com/app-%d", j))}}},
				kv{k: "runtime", sub: []kv{{k: "name", v: []byte("io.containerd.runc.v2")},
					{k: "options", v: []byte("\x0a\x1acontainerd.runc.v1.Options")}}},
				kv{k: "snapshotKey", v: []byte(id)},
				kv{k: "snapshotter", v: []byte("overlayfs")},
				kv{k: "spec", v: filler(r, 2000+r.Intn(1400))}), "containers")
		}
		for n, s := range snaps {
			rec := times(kv{k: "name", v: []byte(fmt.Sprintf("%s/%d/%s", ns, n+1, s.key))})
			if s.parent != "" {
				rec = append(rec, kv{k: "parent", v: []byte(s.parent)})
			}
			if len(s.children) > 0 {
				children := make([]kv, len(s.children))
				for i, c := range s.children {
					children[i] = kv{k: c, v: []byte{}}
				}
				rec = append(rec, kv{k: "children", sub: children})
			}
			add(s.key, rec, "snapshots", "overlayfs")
		}
		// Written in transactions of 500 records; the namespace's first
		// creates v1, the namespace and its labels.
		const perTx = 500
		for i := 0; i < len(recs); i += perTx {
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
					n, err := putRecord(nsb, []kv{{k: "labels", sub: []kv{
						{k: "containerd.io/namespace.shareable", v: []byte("true")}}}})
					keys += n
					if err != nil {
						return err
					}
				}
				for _, rc := range recs[i:min(i+perTx, len(recs))] {
					b := nsb
					for _, name := range rc.path {
						if b, err = b.CreateBucketIfNotExists([]byte(name)); err != nil {
							return err
						}
					}
					n, err := putRecord(b, []kv{{k: rc.name, sub: rc.rec}})
					keys += n
					if err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return 0, err
			}
		}
	}
	return keys, nil
}
