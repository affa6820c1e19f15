package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// Reading the meta pages straight from the file bytes, independently of the
// library, following the format spec (meta pages, choosing the active one).

const (
	metaMagic     = 0xED0CDAED
	metaVersion   = 2
	pageHeaderLen = 16
	metaLen       = 64 // magic .. checksum
	probeLen      = 4096
)

// Meta holds the fields of a meta page that the manifest reports.
type Meta struct {
	Txid     uint64 `json:"txid"`
	Root     uint64 `json:"root"`
	Freelist uint64 `json:"freelist"`
	Pgid     uint64 `json:"pgid"`
	Flags    uint32 `json:"flags"`
}

type rawMeta struct {
	Meta
	pageSize uint32
	err      error // validation error, nil when valid
}

// parseMeta decodes and validates the 64-byte meta structure in b.
func parseMeta(b []byte) rawMeta {
	if len(b) < metaLen {
		return rawMeta{err: errors.New("short meta page")}
	}
	le := binary.LittleEndian
	m := rawMeta{
		Meta: Meta{
			Flags:    le.Uint32(b[12:16]),
			Root:     le.Uint64(b[16:24]),
			Freelist: le.Uint64(b[32:40]),
			Pgid:     le.Uint64(b[40:48]),
			Txid:     le.Uint64(b[48:56]),
		},
		pageSize: le.Uint32(b[8:12]),
	}
	h := fnv.New64a()
	h.Write(b[:56])
	switch {
	case le.Uint32(b[0:4]) != metaMagic:
		m.err = errors.New("invalid database")
	case le.Uint32(b[4:8]) != metaVersion:
		m.err = errors.New("version mismatch")
	case le.Uint64(b[56:64]) != h.Sum64():
		m.err = errors.New("checksum error")
	}
	return m
}

// readAt reads up to n bytes at off; short reads at end of file are fine.
func readAt(f *os.File, off int64, n int) ([]byte, error) {
	buf := make([]byte, n)
	got, err := f.ReadAt(buf, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:got], nil
}

// metaAt reads the meta structure of the page starting at off.
func metaAt(f *os.File, off int64) rawMeta {
	b, err := readAt(f, off+pageHeaderLen, metaLen)
	if err != nil {
		return rawMeta{err: err}
	}
	return parseMeta(b)
}

// filePageSize finds the page size like bbolt does: meta 0 if it validates,
// else the first valid meta found at 1 KiB << i.
func filePageSize(f *os.File, size int64) (int, error) {
	if m := metaAt(f, 0); m.err == nil && size >= probeLen {
		return int(m.pageSize), nil
	}
	for i := 0; i < 15; i++ {
		pos := int64(1024) << i
		if pos >= size-1024 {
			break
		}
		if m := metaAt(f, pos); m.err == nil {
			return int(m.pageSize), nil
		}
	}
	return 0, errors.New("invalid database: no valid meta page")
}

// MetaInfo is the active meta page of a file.
type MetaInfo struct {
	Meta     Meta
	Page     int // 0 or 1
	PageSize int
}

// readActiveMeta returns the meta page in use: the valid one with the larger
// txid, meta 0 on a tie.
func readActiveMeta(path string) (*MetaInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	ps, err := filePageSize(f, st.Size())
	if err != nil {
		return nil, err
	}
	m0, m1 := metaAt(f, 0), metaAt(f, int64(ps))
	switch {
	case m0.err == nil && m1.err == nil:
		if m1.Txid > m0.Txid {
			return &MetaInfo{m1.Meta, 1, ps}, nil
		}
		return &MetaInfo{m0.Meta, 0, ps}, nil
	case m0.err == nil:
		return &MetaInfo{m0.Meta, 0, ps}, nil
	case m1.err == nil:
		return &MetaInfo{m1.Meta, 1, ps}, nil
	}
	return nil, fmt.Errorf("no valid meta page: %v", m0.err)
}
