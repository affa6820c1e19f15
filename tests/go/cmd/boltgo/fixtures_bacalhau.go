package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A look-alike of a bacalhau compute node's execution store (BoltDB backed
// store of the compute package): buckets "execution" (execution ID -> JSON),
// "execution-history" (one sub-bucket per execution, NextSequence keys ->
// JSON state transitions) and "execution-index" (one sub-bucket per job,
// execution IDs -> empty values).

type bacResources struct {
	CPU    float64 `json:"CPU"`
	Memory uint64  `json:"Memory"`
	Disk   uint64  `json:"Disk"`
	GPU    uint64  `json:"GPU"`
}

type bacRunOutput struct {
	STDOUT   string `json:"STDOUT"`
	STDERR   string `json:"STDERR"`
	ExitCode int    `json:"ExitCode"`
}

type bacExecution struct {
	ID                 string            `json:"ID"`
	JobID              string            `json:"JobID"`
	NodeID             string            `json:"NodeID"`
	Namespace          string            `json:"Namespace"`
	State              string            `json:"State"`
	DesiredState       string            `json:"DesiredState"`
	Revision           int               `json:"Revision"`
	CreateTime         int64             `json:"CreateTime"`
	ModifyTime         int64             `json:"ModifyTime"`
	Labels             map[string]string `json:"Labels"`
	AllocatedResources bacResources      `json:"AllocatedResources"`
	Engine             string            `json:"Engine"`
	Entrypoint         []string          `json:"Entrypoint"`
	PublishedResult    *string           `json:"PublishedResult"`
	RunOutput          *bacRunOutput     `json:"RunOutput"`
}

type bacHistory struct {
	ExecutionID   string `json:"ExecutionID"`
	PreviousState string `json:"PreviousState"`
	NewState      string `json:"NewState"`
	NewRevision   int    `json:"NewRevision"`
	Comment       string `json:"Comment"`
	Time          string `json:"Time"`
}

var bacFlows = [][]string{
	{"New", "AskForBid", "BidAccepted", "Running", "PublishingResults", "Completed"},
	{"New", "AskForBid", "BidAccepted", "Running", "Failed"},
	{"New", "AskForBid", "BidRejected"},
	{"New", "AskForBid", "Cancelled"},
	{"New", "AskForBid", "BidAccepted", "Running"},
}

func (g *gen) uuid() string {
	b := g.randBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func buildBacalhauCompute(g *gen) error {
	base := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	nodeID := "n-" + g.uuid()
	type execState struct {
		exec *bacExecution
		flow []string
		step int
		when time.Time
	}
	var jobs []string
	for i := 0; i < 25; i++ {
		jobs = append(jobs, "j-"+g.uuid())
	}
	var execs []*execState
	for i := 0; i < 70; i++ {
		created := base.Add(time.Duration(g.rng.Int63n(int64(6 * time.Hour))))
		e := &bacExecution{
			ID:           "e-" + g.uuid(),
			JobID:        jobs[g.rng.Intn(len(jobs))],
			NodeID:       nodeID,
			Namespace:    "default",
			DesiredState: "Running",
			CreateTime:   created.UnixNano(),
			Labels:       map[string]string{"env": []string{"prod", "staging", "dev"}[g.rng.Intn(3)], "team": fmt.Sprintf("team-%d", g.rng.Intn(4))},
			AllocatedResources: bacResources{
				CPU: float64(g.between(1, 8)) / 4, Memory: uint64(g.between(1, 16)) << 28,
				Disk: uint64(g.between(1, 40)) << 30, GPU: uint64(g.rng.Intn(2)),
			},
			Engine:     "docker",
			Entrypoint: []string{"/bin/sh", "-c", fmt.Sprintf("python3 /app/run.py --shard %d && echo done", i)},
		}
		execs = append(execs, &execState{exec: e, flow: bacFlows[g.rng.Intn(len(bacFlows))], when: created})
	}

	// advance moves an execution one state forward and records it.
	advance := func(tx *bolt.Tx, s *execState) error {
		e := s.exec
		prev := "Undefined"
		if s.step > 0 {
			prev = s.flow[s.step-1]
		}
		e.State = s.flow[s.step]
		e.Revision = s.step + 1
		s.when = s.when.Add(time.Duration(g.rng.Int63n(int64(40 * time.Minute))))
		e.ModifyTime = s.when.UnixNano()
		comment := ""
		switch e.State {
		case "New":
			comment = "execution created"
		case "Completed":
			r := fmt.Sprintf("s3://results/%s/%s.tar.gz", e.JobID, e.ID)
			e.PublishedResult = &r
			e.DesiredState = "Stopped"
			e.RunOutput = &bacRunOutput{STDOUT: string(g.randText(g.between(20, 900))), ExitCode: 0}
		case "Failed":
			e.DesiredState = "Stopped"
			e.RunOutput = &bacRunOutput{STDERR: "error: " + string(g.randText(g.between(20, 300))), ExitCode: g.between(1, 137)}
			comment = fmt.Sprintf("execution failed: exit code %d", e.RunOutput.ExitCode)
		case "Cancelled", "BidRejected":
			e.DesiredState = "Stopped"
			comment = "cancelled by requester"
		}
		v, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if err := tx.Bucket([]byte("execution")).Put([]byte(e.ID), v); err != nil {
			return err
		}
		hb, err := g.bucket(tx, "execution-history", e.ID)
		if err != nil {
			return err
		}
		seq, err := hb.NextSequence()
		if err != nil {
			return err
		}
		h, err := json.Marshal(bacHistory{e.ID, prev, e.State, e.Revision, comment, s.when.Format(time.RFC3339Nano)})
		if err != nil {
			return err
		}
		k := make([]byte, 8)
		binary.BigEndian.PutUint64(k, seq)
		if err := hb.Put(k, h); err != nil {
			return err
		}
		s.step++
		return nil
	}

	// Creation, in batches of 10 executions per transaction.
	for start := 0; start < len(execs); start += 10 {
		err := g.update(func(tx *bolt.Tx) error {
			for _, name := range []string{"execution", "execution-history", "execution-index"} {
				if _, err := g.bucket(tx, name); err != nil {
					return err
				}
			}
			for _, s := range execs[start : start+10] {
				if err := advance(tx, s); err != nil {
					return err
				}
				ib, err := g.bucket(tx, "execution-index", s.exec.JobID)
				if err != nil {
					return err
				}
				if err := ib.Put([]byte(s.exec.ID), []byte{}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	// State updates, one random execution at a time, a few per transaction.
	for round := 0; round < 40; round++ {
		err := g.update(func(tx *bolt.Tx) error {
			for i := 0; i < 6; i++ {
				s := execs[g.rng.Intn(len(execs))]
				if s.step < len(s.flow) {
					if err := advance(tx, s); err != nil {
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
	// Cleanup of some finished executions: value, history and index entry.
	return g.update(func(tx *bolt.Tx) error {
		for i, s := range execs {
			if i%9 != 0 {
				continue
			}
			id := []byte(s.exec.ID)
			if err := tx.Bucket([]byte("execution")).Delete(id); err != nil {
				return err
			}
			if err := tx.Bucket([]byte("execution-history")).DeleteBucket(id); err != nil {
				return err
			}
			if err := tx.Bucket([]byte("execution-index")).Bucket([]byte(s.exec.JobID)).Delete(id); err != nil {
				return err
			}
		}
		return nil
	})
}
