// raftstore writes raft-boltdb stores with fixed content, for pybbolt's tests:
// the same logs and conf keys through raft-boltdb v1 (boltdb/bolt,
// go-msgpack v0.5) and v2 (bbolt, go-msgpack v2, both time formats).
//
//	usage: raftstore OUTDIR   (writes raft_v1.db, raft_v2.db, raft_v2_newtime.db)
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb"
	raftboltdbv2 "github.com/hashicorp/raft-boltdb/v2"
)

// store is what both raft-boltdb versions provide.
type store interface {
	StoreLogs(logs []*raft.Log) error
	DeleteRange(min, max uint64) error
	Set(k, v []byte) error
	SetUint64(key []byte, val uint64) error
	Close() error
}

// The logs: indexes 1..8, then 1..2 deleted as a snapshot would (DeleteRange).
func logs() []*raft.Log {
	base := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	config := raft.EncodeConfiguration(raft.Configuration{Servers: []raft.Server{
		{Suffrage: raft.Voter, ID: "node-1", Address: "10.0.0.1:8300"},
		{Suffrage: raft.Nonvoter, ID: "node-2", Address: "10.0.0.2:8300"},
	}})
	return []*raft.Log{
		{Index: 1, Term: 1, Type: raft.LogConfiguration, Data: config, AppendedAt: base},
		{Index: 2, Term: 1, Type: raft.LogNoop, AppendedAt: base.Add(time.Second)},
		{Index: 3, Term: 1, Type: raft.LogConfiguration, Data: config, AppendedAt: base.Add(2 * time.Second)},
		{Index: 4, Term: 2, Type: raft.LogNoop, AppendedAt: base.Add(3 * time.Second)},
		{Index: 5, Term: 2, Type: raft.LogCommand, Data: []byte("set x=1"), AppendedAt: base.Add(4 * time.Second)},
		{Index: 6, Term: 2, Type: raft.LogCommand, Data: []byte{0x00, 0xff, 0x80}, Extensions: []byte("ext"),
			AppendedAt: base.Add(5*time.Second + 250*time.Millisecond)},
		{Index: 7, Term: 3, Type: raft.LogBarrier},
		{Index: 8, Term: 3, Type: raft.LogCommand, Data: []byte{}, AppendedAt: base.Add(time.Hour)},
	}
}

func fill(s store) error {
	if err := s.StoreLogs(logs()); err != nil {
		return err
	}
	if err := s.DeleteRange(1, 2); err != nil {
		return err
	}
	if err := s.SetUint64([]byte("CurrentTerm"), 3); err != nil {
		return err
	}
	if err := s.SetUint64([]byte("LastVoteTerm"), 3); err != nil {
		return err
	}
	if err := s.Set([]byte("LastVoteCand"), []byte("10.0.0.1:8300")); err != nil {
		return err
	}
	return s.Close()
}

func run(outdir string) error {
	paths := map[string]string{}
	for _, name := range []string{"raft_v1.db", "raft_v2.db", "raft_v2_newtime.db"} {
		paths[name] = filepath.Join(outdir, name)
		if err := os.Remove(paths[name]); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	v1, err := raftboltdb.NewBoltStore(paths["raft_v1.db"])
	if err != nil {
		return err
	}
	if err := fill(v1); err != nil {
		return err
	}
	v2, err := raftboltdbv2.NewBoltStore(paths["raft_v2.db"])
	if err != nil {
		return err
	}
	if err := fill(v2); err != nil {
		return err
	}
	v2n, err := raftboltdbv2.New(raftboltdbv2.Options{Path: paths["raft_v2_newtime.db"], MsgpackUseNewTimeFormat: true})
	if err != nil {
		return err
	}
	return fill(v2n)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: raftstore OUTDIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "raftstore:", err)
		os.Exit(1)
	}
}
