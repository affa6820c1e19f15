// bacalhau14 writes and reads a Bacalhau v1.4.0 compute node's execution
// store (boltdb.NewStore: buckets execution, execution-history,
// execution-index, execution-live-index) with Bacalhau's own code, for
// pybbolt's tests of examples/bacalhau_store.py.  A Go module of its own.
//
//	bacalhau14 gen OUTDIR
//	    writes OUTDIR/bacalhau140_compute.db and OUTDIR/bacalhau140_counts.json
//	    (what `counts` prints, plus the cutoff between old and new executions)
//	bacalhau14 counts COMPUTE.db
//	    prints {"compute": {"counts": {state: GetExecutionCount}, "executions": {id: state}}}
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/bacalhau-project/bacalhau/pkg/compute/store"
	computebolt "github.com/bacalhau-project/bacalhau/pkg/compute/store/boltdb"
	"github.com/bacalhau-project/bacalhau/pkg/models"
	"github.com/bacalhau-project/bacalhau/pkg/test/mock"
)

// Times come from the wall clock: the old executions reach their final
// state, then after a pause the new ones do; the cutoff goes into the file.
const pause = 1500 * time.Millisecond

var ctx = context.Background()

var jobIDs = []string{"j-alpha", "j-beta", "j-gamma", "j-delta", "j-epsilon", "j-zeta"}

func execution(jobID, id string) *models.Execution {
	job := mock.Job()
	job.ID = jobID
	e := mock.ExecutionForJob(job)
	e.ID = id
	e.NodeID = "n-compute-1"
	return e
}

type flow struct {
	job, id string
	states  []store.LocalExecutionStateType
}

func runFlows(s *computebolt.Store, flows []flow) error {
	for _, f := range flows {
		local := store.NewLocalExecutionState(execution(f.job, f.id), "n-requester-1")
		if err := s.CreateExecution(ctx, *local); err != nil {
			return fmt.Errorf("create %s: %w", f.id, err)
		}
		for _, state := range f.states {
			err := s.UpdateExecutionState(ctx, store.UpdateExecutionStateRequest{
				ExecutionID: f.id, NewState: state, Comment: "moved to " + state.String()})
			if err != nil {
				return fmt.Errorf("update %s to %s: %w", f.id, state, err)
			}
		}
	}
	return nil
}

func gen(path string) (string, error) {
	s, err := computebolt.NewStore(ctx, path)
	if err != nil {
		return "", err
	}
	defer s.Close(ctx)
	const (
		bid       = store.ExecutionStateBidAccepted
		running   = store.ExecutionStateRunning
		publish   = store.ExecutionStatePublishing
		completed = store.ExecutionStateCompleted
		failed    = store.ExecutionStateFailed
		cancelled = store.ExecutionStateCancelled
	)
	type states = []store.LocalExecutionStateType
	old := []flow{
		{"j-alpha", "e-old-completed-1", states{bid, running, publish, completed}},
		{"j-alpha", "e-old-completed-2", states{bid, running, publish, completed}},
		{"j-beta", "e-old-failed", states{bid, running, failed}},
		{"j-beta", "e-old-cancelled", states{cancelled}},
		{"j-gamma", "e-old-running", states{bid, running}},
		{"j-gamma", "e-old-created", states{}},
		// Deleted below while running: v1.4.0's DeleteExecution keeps its
		// execution-live-index entry (a dangling entry) and the empty
		// execution-index bucket of its job.
		{"j-delta", "e-old-deleted", states{bid, running}},
	}
	recent := []flow{
		{"j-alpha", "e-new-completed", states{bid, running, publish, completed}},
		{"j-epsilon", "e-new-failed", states{bid, failed}},
		{"j-epsilon", "e-new-running", states{bid, running}},
		{"j-zeta", "e-new-publishing", states{bid, running, publish}},
		{"j-zeta", "e-new-bid", states{bid}},
	}
	if err := runFlows(s, old); err != nil {
		return "", err
	}
	if err := s.DeleteExecution(ctx, "e-old-deleted"); err != nil {
		return "", err
	}
	time.Sleep(pause / 2)
	cutoff := time.Now().UTC()
	time.Sleep(pause / 2)
	if err := runFlows(s, recent); err != nil {
		return "", err
	}
	return cutoff.Format(time.RFC3339Nano), nil
}

type storeCounts struct {
	Counts     map[string]uint64 `json:"counts"`
	Executions map[string]string `json:"executions"`
}

func counts(path string) (map[string]any, error) {
	s, err := computebolt.NewStore(ctx, path)
	if err != nil {
		return nil, err
	}
	defer s.Close(ctx)
	out := storeCounts{Counts: map[string]uint64{}, Executions: map[string]string{}}
	for _, state := range store.ExecutionStateTypes() {
		n, err := s.GetExecutionCount(ctx, state)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			out.Counts[state.String()] = n
		}
	}
	for _, jobID := range jobIDs {
		execs, err := s.GetExecutions(ctx, jobID)
		if err != nil {
			var notFound store.ErrExecutionsNotFoundForJob
			if errors.As(err, &notFound) {
				continue
			}
			return nil, err
		}
		for _, e := range execs {
			out.Executions[e.Execution.ID] = e.State.String()
			if _, err := s.GetExecutionHistory(ctx, e.Execution.ID); err != nil {
				return nil, fmt.Errorf("history of %s: %w", e.Execution.ID, err)
			}
		}
	}
	return map[string]any{"compute": out}, nil
}

func run(args []string) error {
	switch {
	case len(args) == 2 && args[0] == "gen":
		path := filepath.Join(args[1], "bacalhau140_compute.db")
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return err
		}
		cutoff, err := gen(path)
		if err != nil {
			return err
		}
		out, err := counts(path)
		if err != nil {
			return err
		}
		out["compute_cutoff"] = cutoff
		data, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(args[1], "bacalhau140_counts.json"), append(data, '\n'), 0o644)
	case len(args) == 2 && args[0] == "counts":
		out, err := counts(args[1])
		if err != nil {
			return err
		}
		return json.NewEncoder(os.Stdout).Encode(out)
	}
	return errors.New("usage: bacalhau14 gen OUTDIR | bacalhau14 counts COMPUTE.db")
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bacalhau14:", err)
		os.Exit(1)
	}
}
