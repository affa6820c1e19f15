package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// The logical content of a database, in exactly the format of the golden
// manifest's "content" field (see the golden set's README): buckets in key
// order, each with its key/value pairs and its sub-buckets.

const (
	// maxInlineBytes: a key or value longer than this is given by its
	// length and sha256 instead of its hex.
	maxInlineBytes = 1024
	// maxListedEntries: a bucket with more pairs than this has entries null.
	maxListedEntries = 20000
)

// Content is the logical content of a database.
type Content struct {
	PageSize int              `json:"page_size"`
	Buckets  []*BucketContent `json:"buckets"`
}

// BucketContent is one bucket and, recursively, its sub-buckets.
type BucketContent struct {
	NameHex       string           `json:"name_hex"`
	Name          *string          `json:"name,omitempty"`
	Sequence      uint64           `json:"sequence"`
	Inline        bool             `json:"inline"`
	KeyCount      int              `json:"key_count"`
	EntriesSHA256 string           `json:"entries_sha256"`
	Entries       []Entry          `json:"entries"`
	EntriesListed bool             `json:"entries_listed"`
	Buckets       []*BucketContent `json:"buckets"`
}

// Entry is one key/value pair. Exactly one of K or (KLen, KSHA256) is set;
// for the value: V, or VLen and VSHA256, or VLen alone (= 0) for an empty
// value.
type Entry struct {
	K       *string `json:"k,omitempty"`
	KLen    *int    `json:"klen,omitempty"`
	KSHA256 *string `json:"ksha256,omitempty"`
	V       *string `json:"v,omitempty"`
	VLen    *int    `json:"vlen,omitempty"`
	VSHA256 *string `json:"vsha256,omitempty"`
}

func newEntry(k, v []byte) Entry {
	var e Entry
	if len(k) > maxInlineBytes {
		n, h := len(k), sha256Hex(k)
		e.KLen, e.KSHA256 = &n, &h
	} else {
		s := hex.EncodeToString(k)
		e.K = &s
	}
	switch {
	case len(v) == 0:
		n := 0
		e.VLen = &n
	case len(v) > maxInlineBytes:
		n, h := len(v), sha256Hex(v)
		e.VLen, e.VSHA256 = &n, &h
	default:
		s := hex.EncodeToString(v)
		e.V = &s
	}
	return e
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// readContent reads the whole logical content visible to tx.
func readContent(tx *bolt.Tx) *Content {
	c := &Content{PageSize: tx.DB().Info().PageSize, Buckets: []*BucketContent{}}
	cur := tx.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if v != nil {
			continue // the root bucket only holds buckets
		}
		if b := tx.Bucket(k); b != nil {
			c.Buckets = append(c.Buckets, readBucket(k, b))
		}
	}
	return c
}

func readBucket(name []byte, b *bolt.Bucket) *BucketContent {
	bc := &BucketContent{
		NameHex:       hex.EncodeToString(name),
		Sequence:      b.Sequence(),
		Inline:        b.Root() == 0,
		Entries:       []Entry{},
		EntriesListed: true,
		Buckets:       []*BucketContent{},
	}
	if utf8.Valid(name) {
		s := string(name)
		bc.Name = &s
	}
	h := sha256.New()
	cur := b.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if v == nil {
			if sub := b.Bucket(k); sub != nil {
				bc.Buckets = append(bc.Buckets, readBucket(k, sub))
			}
			continue
		}
		bc.KeyCount++
		hashPair(h, k, v)
		if bc.EntriesListed {
			if bc.KeyCount > maxListedEntries {
				bc.Entries, bc.EntriesListed = nil, false
			} else {
				bc.Entries = append(bc.Entries, newEntry(k, v))
			}
		}
	}
	bc.EntriesSHA256 = hex.EncodeToString(h.Sum(nil))
	return bc
}

// hashPair feeds one pair into the entries hash: 4-byte big-endian key
// length, key, 4-byte big-endian value length, value.
func hashPair(h hash.Hash, k, v []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(k)))
	h.Write(n[:])
	h.Write(k)
	binary.BigEndian.PutUint32(n[:], uint32(len(v)))
	h.Write(n[:])
	h.Write(v)
}
