package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// boltgo gen-fixtures OUTDIR: writes every fixture database (see
// fixtureList) and OUTDIR/manifest.json describing them. Every random choice
// comes from math/rand sources with fixed seeds, so the logical content is
// the same on every run (the page layout may differ where bbolt itself
// iterates Go maps).

// fixture describes one generated database.
type fixture struct {
	Name        string // file name inside OUTDIR
	Description string
	Features    []string
	Seed        int64

	PageSize       int
	NoFreelistSync bool
	FreelistType   string  // "array" (default) or "hashmap"
	FillPercent    float64 // 0 means bbolt's default 0.5

	// InitialMmapSize lets a build hold a read transaction open while it
	// writes (no remap, which would wait for the reader).
	InitialMmapSize int

	// Build writes the content; nil leaves the database as created.
	Build func(g *gen) error
}

// gen is what a fixture's Build gets: the open database, the fill percent
// to set on every bucket it touches, and its random source.
type gen struct {
	db   *bolt.DB
	fill float64
	rng  *rand.Rand
}

type manifestOptions struct {
	PageSize       int     `json:"PageSize"`
	NoFreelistSync bool    `json:"NoFreelistSync"`
	FreelistType   string  `json:"FreelistType"`
	FillPercent    float64 `json:"FillPercent"`
}

type manifestEntry struct {
	Path           string          `json:"path"`
	Description    string          `json:"description"`
	Features       []string        `json:"features"`
	Options        manifestOptions `json:"options"`
	Size           int64           `json:"size"`
	SHA256         string          `json:"sha256"`
	PageSize       int             `json:"page_size"`
	Meta           Meta            `json:"meta"`
	ActiveMetaPage int             `json:"active_meta_page"`
	CheckOK        bool            `json:"check_ok"`
	Content        *Content        `json:"content"`
}

func (f *fixture) options() manifestOptions {
	o := manifestOptions{
		PageSize:       f.PageSize,
		NoFreelistSync: f.NoFreelistSync,
		FreelistType:   f.FreelistType,
		FillPercent:    f.FillPercent,
	}
	if o.PageSize == 0 {
		o.PageSize = 4096
	}
	if o.FreelistType == "" {
		o.FreelistType = string(bolt.FreelistArrayType)
	}
	if o.FillPercent == 0 {
		o.FillPercent = bolt.DefaultFillPercent
	}
	return o
}

func cmdGenFixtures(args []string) int {
	if len(args) != 1 {
		return usageError("gen-fixtures takes one argument: OUTDIR")
	}
	outdir := args[0]
	if err := os.MkdirAll(outdir, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "boltgo: %v\n", err)
		return 1
	}
	var entries []*manifestEntry
	var total int64
	for _, f := range fixtureList() {
		e, err := generate(outdir, f)
		if err != nil {
			fmt.Fprintf(os.Stderr, "boltgo: fixture %s: %v\n", f.Name, err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "%-36s %9d bytes  meta txid %d\n", e.Path, e.Size, e.Meta.Txid)
		total += e.Size
		entries = append(entries, e)
	}
	if err := writeManifest(filepath.Join(outdir, "manifest.json"), entries); err != nil {
		fmt.Fprintf(os.Stderr, "boltgo: manifest: %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "%d databases, %d bytes in all\n", len(entries), total)
	return 0
}

// generate builds one fixture from scratch and describes it.
func generate(outdir string, f fixture) (*manifestEntry, error) {
	path := filepath.Join(outdir, f.Name)
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	o := f.options()
	db, err := bolt.Open(path, 0o644, &bolt.Options{
		PageSize:        o.PageSize,
		NoFreelistSync:  o.NoFreelistSync,
		FreelistType:    bolt.FreelistType(o.FreelistType),
		NoSync:          true,
		InitialMmapSize: f.InitialMmapSize,
	})
	if err != nil {
		return nil, err
	}
	if f.Build != nil {
		g := &gen{db: db, fill: o.FillPercent, rng: rand.New(rand.NewSource(f.Seed))}
		if err := f.Build(g); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	return describe(path, f, o)
}

// describe reopens a finished fixture read-only and builds its manifest entry.
func describe(path string, f fixture, o manifestOptions) (*manifestEntry, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	db, err := openReadOnly(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	d, err := dumpDB(db)
	if err != nil {
		return nil, err
	}
	if len(d.Check) > 0 {
		return nil, fmt.Errorf("tx.Check found problems: %v", d.Check)
	}
	mi, err := readActiveMeta(path)
	if err != nil {
		return nil, err
	}
	if mi.PageSize != o.PageSize || d.PageSize != o.PageSize {
		return nil, fmt.Errorf("page size %d/%d, want %d", mi.PageSize, d.PageSize, o.PageSize)
	}
	return &manifestEntry{
		Path:           f.Name,
		Description:    f.Description,
		Features:       f.Features,
		Options:        o,
		Size:           int64(len(raw)),
		SHA256:         hex.EncodeToString(sum[:]),
		PageSize:       d.PageSize,
		Meta:           mi.Meta,
		ActiveMetaPage: mi.Page,
		CheckOK:        true,
		Content:        d.Content,
	}, nil
}

// writeManifest writes the manifest with one database entry per line.
func writeManifest(path string, entries []*manifestEntry) error {
	var buf bytes.Buffer
	buf.WriteString(`{"format": "pybbolt fixtures", "written_by": "go.etcd.io/bbolt v1.5.0",` + "\n")
	buf.WriteString(` "databases": [` + "\n")
	for i, e := range entries {
		b, err := marshal(e)
		if err != nil {
			return err
		}
		buf.Write(b)
		if i < len(entries)-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
	}
	buf.WriteString("]}\n")
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// --- helpers for Build functions ---

// update runs fn in one read-write transaction.
func (g *gen) update(fn func(tx *bolt.Tx) error) error {
	return g.db.Update(fn)
}

// bucket returns the bucket at path (names as strings), creating it and its
// parents when missing, with FillPercent set on every level.
func (g *gen) bucket(tx *bolt.Tx, path ...string) (*bolt.Bucket, error) {
	p := make([][]byte, len(path))
	for i, s := range path {
		p[i] = []byte(s)
	}
	return g.bucketB(tx, p...)
}

// bucketB is bucket with byte-string names.
func (g *gen) bucketB(tx *bolt.Tx, path ...[]byte) (*bolt.Bucket, error) {
	var b *bolt.Bucket
	var err error
	for i, name := range path {
		if i == 0 {
			b, err = tx.CreateBucketIfNotExists(name)
		} else {
			b, err = b.CreateBucketIfNotExists(name)
		}
		if err != nil {
			return nil, fmt.Errorf("bucket %q: %w", name, err)
		}
		b.FillPercent = g.fill
	}
	return b, nil
}

// lookup returns the existing bucket at path, or nil.
func (g *gen) lookup(tx *bolt.Tx, path ...[]byte) *bolt.Bucket {
	var b *bolt.Bucket
	for i, name := range path {
		if i == 0 {
			b = tx.Bucket(name)
		} else {
			b = b.Bucket(name)
		}
		if b == nil {
			return nil
		}
		b.FillPercent = g.fill
	}
	return b
}

// randBytes returns n random bytes (a fresh slice: bbolt keeps references to
// keys and values until the transaction ends).
func (g *gen) randBytes(n int) []byte {
	b := make([]byte, n)
	g.rng.Read(b)
	return b
}

const textAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.:/"

// randText returns n random printable ASCII bytes.
func (g *gen) randText(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = textAlphabet[g.rng.Intn(len(textAlphabet))]
	}
	return b
}

// between returns a random int in [lo, hi].
func (g *gen) between(lo, hi int) int {
	return lo + g.rng.Intn(hi-lo+1)
}

// putAll puts n keys fmt.Sprintf(format, i) with values from val.
func putAll(b *bolt.Bucket, n int, format string, val func(i int) []byte) error {
	for i := 0; i < n; i++ {
		if err := b.Put([]byte(fmt.Sprintf(format, i)), val(i)); err != nil {
			return err
		}
	}
	return nil
}
