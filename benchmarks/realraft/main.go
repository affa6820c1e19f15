// realraft writes a real raft-boltdb store shaped like `boltgo gen-shape raft`,
// for benchmarks/FIELD.md: a single-node hashicorp/raft cluster (in-memory
// transport and snapshot store) keeps its log and stable store in a
// raft-boltdb BoltStore, as Consul and Nomad do.  Raft itself writes the
// store: StoreLogs of the batches the leader gathers, the stable keys
// (CurrentTerm, LastVoteTerm, LastVoteCand), and after each snapshot the head
// truncation DeleteRange(first, snapshot-TrailingLogs).
//
// The workload is the generator's: batches of 1-64 commands of 1-64 kB
// (compressible text after a message-type byte), a snapshot once 1,500
// entries have come in above the 3,000 kept ones.  Command sizes come from a
// seeded math/rand; the batching follows raft's own timing.
//
//	usage: realraft [-v1] [-entries N] OUT
package main

import (
	"flag"
	"fmt"
	"io"
	"math/rand"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb"
	raftboltdbv2 "github.com/hashicorp/raft-boltdb/v2"
)

// store is what both raft-boltdb versions provide to raft.
type store interface {
	raft.LogStore
	raft.StableStore
	Close() error
}

// fsm counts the commands; its snapshots are empty.
type fsm struct{ applied uint64 }

func (f *fsm) Apply(*raft.Log) any                 { f.applied++; return nil }
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) { return snapshot{}, nil }
func (f *fsm) Restore(rc io.ReadCloser) error      { return rc.Close() }

type snapshot struct{}

func (snapshot) Persist(sink raft.SnapshotSink) error { return sink.Close() }
func (snapshot) Release()                             {}

// filler returns n bytes of runs of one letter (as the generator's filler).
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

func run(out string, v1 bool, entries, keep int) error {
	if err := os.Remove(out); err != nil && !os.IsNotExist(err) {
		return err
	}
	var s store
	var err error
	if v1 {
		s, err = raftboltdb.NewBoltStore(out)
	} else {
		s, err = raftboltdbv2.NewBoltStore(out)
	}
	if err != nil {
		return err
	}
	conf := raft.DefaultConfig()
	conf.LocalID = "node-1"
	conf.Logger = hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: os.Stderr})
	conf.BatchApplyCh = true
	conf.TrailingLogs = uint64(keep)
	// Snapshots only when asked, so the truncations fall where the
	// generator's do.
	conf.SnapshotThreshold = 1 << 40
	conf.SnapshotInterval = 24 * time.Hour
	addr, trans := raft.NewInmemTransport("127.0.0.1:8300")
	snaps := raft.NewInmemSnapshotStore()
	boot := raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: conf.LocalID, Address: addr}}}
	if err := raft.BootstrapCluster(conf, s, s, snaps, trans, boot); err != nil {
		return err
	}
	node, err := raft.NewRaft(conf, &fsm{}, s, s, snaps, trans)
	if err != nil {
		return err
	}
	select {
	case <-node.LeaderCh():
	case <-time.After(30 * time.Second):
		return fmt.Errorf("no leader after 30 s")
	}
	r := rand.New(rand.NewSource(5))
	var since uint64
	for done := 0; done < entries; {
		n := 1 + r.Intn(64)
		var last raft.ApplyFuture
		for i := 0; i < n && done < entries; i++ {
			done++
			data := append([]byte{0x86}, filler(r, 1024+r.Intn(63*1024))...)
			last = node.Apply(data, time.Minute)
		}
		if err := last.Error(); err != nil {
			return err
		}
		since += uint64(n)
		if since > 1500 && int(node.LastIndex()) > keep+1500 {
			if err := node.Snapshot().Error(); err != nil {
				return err
			}
			since = 0
		}
	}
	if err := node.Shutdown().Error(); err != nil {
		return err
	}
	first, _ := s.FirstIndex()
	lastIdx, _ := s.LastIndex()
	fmt.Printf("wrote %s: logs %d..%d\n", out, first, lastIdx)
	return s.Close()
}

func main() {
	v1 := flag.Bool("v1", false, "raft-boltdb v1 (boltdb/bolt) instead of v2 (bbolt)")
	entries := flag.Int("entries", 9000, "commands to apply (the generator's 9,000 at scale 1)")
	keep := flag.Int("keep", 3000, "TrailingLogs kept after a snapshot")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: realraft [-v1] [-entries N] [-keep N] OUT")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *v1, *entries, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "realraft:", err)
		os.Exit(1)
	}
}
