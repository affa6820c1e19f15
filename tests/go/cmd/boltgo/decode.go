package main

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
)

// boltgo decode-page FILE: FILE holds the bytes of one page (header at offset
// 0, overflow pages following).  Prints its header and elements as JSON,
// decoded the way bbolt's internal/common page, branchPageElement,
// leafPageElement and Meta structs lay them out (little-endian, 64-bit page
// ids), without the library: the tests use it to have Go read bytes pybbolt
// encoded, including page ids of 2^32 and more that no file could reach.

const (
	branchFlag   = 0x01
	leafFlag     = 0x02
	metaFlag     = 0x04
	freelistFlag = 0x10
	elemLen      = 16 // branchPageElementSize, leafPageElementSize
)

type decodedElem struct {
	Flags uint32  `json:"flags"`
	Pos   uint32  `json:"pos"`
	Ksize uint32  `json:"ksize"`
	Vsize *uint32 `json:"vsize,omitempty"`
	Pgid  *uint64 `json:"pgid,omitempty"`
	Key   string  `json:"key"`
	Value *string `json:"value,omitempty"`
}

type decodedMeta struct {
	Magic    uint32 `json:"magic"`
	Version  uint32 `json:"version"`
	PageSize uint32 `json:"page_size"`
	Flags    uint32 `json:"flags"`
	Root     uint64 `json:"root"`
	Sequence uint64 `json:"sequence"`
	Freelist uint64 `json:"freelist"`
	Pgid     uint64 `json:"pgid"`
	Txid     uint64 `json:"txid"`
	Checksum uint64 `json:"checksum"`
	Valid    bool   `json:"valid"`
}

type decodedPage struct {
	ID       uint64        `json:"id"`
	Flags    uint16        `json:"flags"`
	Count    uint16        `json:"count"`
	Overflow uint32        `json:"overflow"`
	Elements []decodedElem `json:"elements,omitempty"`
	Meta     *decodedMeta  `json:"meta,omitempty"`
	Ids      []uint64      `json:"ids,omitempty"`
}

func cmdDecodePage(args []string) int {
	if len(args) != 1 {
		return usageError("decode-page takes one argument: FILE")
	}
	buf, err := os.ReadFile(args[0])
	if err != nil {
		return printError(err.Error())
	}
	out, err := decodePage(buf)
	if err != nil {
		return printError(err.Error())
	}
	printJSON(out)
	return 0
}

// span returns buf[off:off+n] or an error when it runs past the end.
func span(buf []byte, off, n uint64) ([]byte, error) {
	if off+n < off || off+n > uint64(len(buf)) {
		return nil, fmt.Errorf("bytes [%d, %d) past the end (%d)", off, off+n, len(buf))
	}
	return buf[off : off+n], nil
}

func decodePage(buf []byte) (*decodedPage, error) {
	le := binary.LittleEndian
	if len(buf) < pageHeaderLen {
		return nil, fmt.Errorf("short page: %d bytes", len(buf))
	}
	p := &decodedPage{ID: le.Uint64(buf[0:8]), Flags: le.Uint16(buf[8:10]),
		Count: le.Uint16(buf[10:12]), Overflow: le.Uint32(buf[12:16])}
	switch p.Flags {
	case branchFlag, leafFlag:
		for i := uint64(0); i < uint64(p.Count); i++ {
			at := pageHeaderLen + i*elemLen
			e, err := span(buf, at, elemLen)
			if err != nil {
				return nil, err
			}
			var d decodedElem
			var klen, vlen uint64
			if p.Flags == branchFlag { // pos, ksize, pgid
				d.Pos, d.Ksize = le.Uint32(e[0:4]), le.Uint32(e[4:8])
				pgid := le.Uint64(e[8:16])
				d.Pgid = &pgid
				klen = uint64(d.Ksize)
			} else { // flags, pos, ksize, vsize
				d.Flags, d.Pos, d.Ksize = le.Uint32(e[0:4]), le.Uint32(e[4:8]), le.Uint32(e[8:12])
				vsize := le.Uint32(e[12:16])
				d.Vsize = &vsize
				klen, vlen = uint64(d.Ksize), uint64(vsize)
			}
			// Positions are relative to the element itself, as in bbolt.
			kv, err := span(buf, at+uint64(d.Pos), klen+vlen)
			if err != nil {
				return nil, err
			}
			d.Key = hex.EncodeToString(kv[:klen])
			if p.Flags == leafFlag {
				v := hex.EncodeToString(kv[klen:])
				d.Value = &v
			}
			p.Elements = append(p.Elements, d)
		}
	case metaFlag:
		b, err := span(buf, pageHeaderLen, metaLen)
		if err != nil {
			return nil, err
		}
		m := parseMeta(b)
		p.Meta = &decodedMeta{
			Magic: le.Uint32(b[0:4]), Version: le.Uint32(b[4:8]), PageSize: m.pageSize,
			Flags: m.Flags, Root: m.Root, Sequence: le.Uint64(b[24:32]), Freelist: m.Freelist,
			Pgid: m.Pgid, Txid: m.Txid, Checksum: le.Uint64(b[56:64]), Valid: m.err == nil,
		}
	case freelistFlag:
		start, count := uint64(pageHeaderLen), uint64(p.Count)
		if count == 0xFFFF { // the real count is the first element
			c, err := span(buf, start, 8)
			if err != nil {
				return nil, err
			}
			count, start = le.Uint64(c), start+8
		}
		ids, err := span(buf, start, 8*count)
		if err != nil {
			return nil, err
		}
		p.Ids = make([]uint64, count)
		for i := range p.Ids {
			p.Ids[i] = le.Uint64(ids[8*i:])
		}
	default:
		return nil, fmt.Errorf("page %d: unknown page flags %#x", p.ID, p.Flags)
	}
	return p, nil
}
