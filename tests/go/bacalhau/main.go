// bacalhau writes and reads Bacalhau v1.5.1 stores with Bacalhau's own code,
// for pybbolt's tests of examples/bacalhau_store.py.  A Go module of its own,
// so tests/go does not pull Bacalhau's dependencies.
//
//	bacalhau gen OUTDIR
//	    writes OUTDIR/bacalhau151_compute.db (boltdb.NewStore: a compute
//	    node's execution store), OUTDIR/bacalhau151_jobstore.db
//	    (boltjobstore.NewBoltJobStore: a requester's job store) and
//	    OUTDIR/bacalhau151_counts.json (what `counts` prints, plus the
//	    cutoff time between the old and the new executions).
//	bacalhau counts COMPUTE.db JOBSTORE.db
//	    prints what Bacalhau's code sees in the two stores as one JSON line:
//	    {"compute": {"counts": {state: GetExecutionCount}, "executions": {id: state}},
//	     "jobstore": {"counts": {state: n}, "executions": {id: state}, "jobs": [...],
//	                  "history": {job: n}}}
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/bacalhau-project/bacalhau/pkg/compute/store"
	computebolt "github.com/bacalhau-project/bacalhau/pkg/compute/store/boltdb"
	"github.com/bacalhau-project/bacalhau/pkg/jobstore"
	boltjobstore "github.com/bacalhau-project/bacalhau/pkg/jobstore/boltdb"
	"github.com/bacalhau-project/bacalhau/pkg/models"
	"github.com/bacalhau-project/bacalhau/pkg/test/mock"
)

// The compute store takes its times from the wall clock: the old
// executions reach their final state, then after a pause the new ones do;
// the cutoff between them goes into the counts file.
const pause = 1500 * time.Millisecond

var ctx = context.Background()

func execution(jobID, id string) *models.Execution {
	job := mock.Job()
	job.ID = jobID
	e := mock.ExecutionForJob(job)
	e.ID = id
	e.NodeID = "n-compute-1"
	return e
}

// computeFlow takes an execution through a sequence of states.
func computeFlow(s *computebolt.Store, jobID, id string, states ...store.LocalExecutionStateType) error {
	local := store.NewLocalExecutionState(execution(jobID, id), "n-requester-1")
	if err := s.CreateExecution(ctx, *local); err != nil {
		return fmt.Errorf("create %s: %w", id, err)
	}
	for _, state := range states {
		err := s.UpdateExecutionState(ctx, store.UpdateExecutionStateRequest{
			ExecutionID: id, NewState: state, Comment: "moved to " + state.String()})
		if err != nil {
			return fmt.Errorf("update %s to %s: %w", id, state, err)
		}
	}
	return nil
}

func genCompute(path string) (string, error) {
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
	old := [][]any{
		{"j-alpha", "e-old-completed-1", []store.LocalExecutionStateType{bid, running, publish, completed}},
		{"j-alpha", "e-old-completed-2", []store.LocalExecutionStateType{bid, running, publish, completed}},
		{"j-beta", "e-old-failed", []store.LocalExecutionStateType{bid, running, failed}},
		{"j-beta", "e-old-cancelled", []store.LocalExecutionStateType{cancelled}},
		{"j-gamma", "e-old-running", []store.LocalExecutionStateType{bid, running}},
		{"j-gamma", "e-old-created", []store.LocalExecutionStateType{}},
		{"j-delta", "e-old-deleted", []store.LocalExecutionStateType{bid, running, completed}},
	}
	recent := [][]any{
		{"j-alpha", "e-new-completed", []store.LocalExecutionStateType{bid, running, publish, completed}},
		{"j-epsilon", "e-new-failed", []store.LocalExecutionStateType{bid, failed}},
		{"j-epsilon", "e-new-running", []store.LocalExecutionStateType{bid, running}},
		{"j-zeta", "e-new-publishing", []store.LocalExecutionStateType{bid, running, publish}},
		{"j-zeta", "e-new-bid", []store.LocalExecutionStateType{bid}},
	}
	run := func(flows [][]any) error {
		for _, f := range flows {
			if err := computeFlow(s, f[0].(string), f[1].(string), f[2].([]store.LocalExecutionStateType)...); err != nil {
				return err
			}
		}
		return nil
	}
	if err := run(old); err != nil {
		return "", err
	}
	// Bacalhau's own delete: the execution, its history and its index entries go.
	if err := s.DeleteExecution(ctx, "e-old-deleted"); err != nil {
		return "", err
	}
	time.Sleep(pause / 2)
	cutoff := time.Now().UTC()
	time.Sleep(pause / 2)
	if err := run(recent); err != nil {
		return "", err
	}
	return cutoff.Format(time.RFC3339Nano), nil
}

func genJobs(path string) error {
	// The job store takes its times from this clock: fixed, so the file's
	// times are the same on every run.
	clk := clock.NewMock()
	clk.Set(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	s, err := boltjobstore.NewBoltJobStore(path, boltjobstore.WithClock(clk))
	if err != nil {
		return err
	}
	defer s.Close(ctx)
	day := 24 * time.Hour
	type execFlow struct {
		id     string
		states []models.ExecutionStateType
	}
	jobs := []struct {
		id    string
		execs []execFlow
		evals []string
	}{
		{"j-alpha", []execFlow{
			{"e-a1", []models.ExecutionStateType{models.ExecutionStateAskForBid, models.ExecutionStateBidAccepted, models.ExecutionStateCompleted}},
			{"e-a2", []models.ExecutionStateType{models.ExecutionStateAskForBid, models.ExecutionStateAskForBidRejected}},
		}, []string{"ev-a1"}},
		{"j-beta", []execFlow{
			{"e-b1", []models.ExecutionStateType{models.ExecutionStateAskForBid, models.ExecutionStateBidAccepted, models.ExecutionStateFailed}},
			{"e-b2", []models.ExecutionStateType{models.ExecutionStateAskForBid, models.ExecutionStateBidAccepted}},
		}, []string{"ev-b1", "ev-b2"}},
		{"j-gamma", []execFlow{
			{"e-c1", []models.ExecutionStateType{models.ExecutionStateCancelled}},
			{"e-c2", []models.ExecutionStateType{models.ExecutionStateAskForBid}},
		}, []string{"ev-c1"}},
		{"j-doomed", []execFlow{
			{"e-d1", []models.ExecutionStateType{models.ExecutionStateAskForBid, models.ExecutionStateBidAccepted, models.ExecutionStateCompleted}},
			{"e-d2", []models.ExecutionStateType{models.ExecutionStateBidRejected}},
		}, []string{"ev-d1"}},
		{"j-delta", []execFlow{
			{"e-e1", []models.ExecutionStateType{models.ExecutionStateAskForBid, models.ExecutionStateBidAccepted, models.ExecutionStateCompleted}},
			{"e-e2", []models.ExecutionStateType{models.ExecutionStateNew}},
		}, []string{"ev-e1"}},
	}
	for _, j := range jobs {
		job := mock.Job()
		job.ID = j.id
		job.Name = "job " + j.id
		job.Labels = map[string]string{"team": "fixtures"}
		if err := s.CreateJob(ctx, *job); err != nil {
			return fmt.Errorf("create job %s: %w", j.id, err)
		}
		if err := s.AddJobHistory(ctx, j.id, *models.NewEvent("Submit").WithMessage("job submitted")); err != nil {
			return err
		}
		for _, ev := range j.evals {
			eval := mock.Eval()
			eval.ID = ev
			eval.JobID = j.id
			eval.CreateTime = clk.Now().UnixNano()
			eval.ModifyTime = eval.CreateTime
			if err := s.CreateEvaluation(ctx, *eval); err != nil {
				return fmt.Errorf("create evaluation %s: %w", ev, err)
			}
		}
		for _, f := range j.execs {
			e := execution(j.id, f.id)
			e.CreateTime, e.ModifyTime = 0, 0
			if err := s.CreateExecution(ctx, *e); err != nil {
				return fmt.Errorf("create execution %s: %w", f.id, err)
			}
			for _, state := range f.states {
				clk.Add(time.Hour)
				err := s.UpdateExecution(ctx, jobstore.UpdateExecutionRequest{
					ExecutionID: f.id,
					NewValues:   models.Execution{ComputeState: models.NewExecutionState(state)},
				})
				if err != nil {
					return fmt.Errorf("update execution %s to %s: %w", f.id, state, err)
				}
				event := models.NewEvent("Exec").WithMessage("now " + state.String())
				if err := s.AddExecutionHistory(ctx, j.id, f.id, *event); err != nil {
					return err
				}
			}
		}
		clk.Add(day) // the next job is a day younger
	}
	// What Bacalhau leaves behind (v1.5.1): deleting a job keeps its
	// idx_executions and idx_evaluations entries; deleting an evaluation
	// keeps its idx_evaluations entry.
	if err := s.DeleteJob(ctx, "j-doomed"); err != nil {
		return err
	}
	return s.DeleteEvaluation(ctx, "ev-b2")
}

type storeCounts struct {
	Counts     map[string]uint64 `json:"counts"`
	Executions map[string]string `json:"executions"`
	Jobs       []string          `json:"jobs,omitempty"`
	History    map[string]int    `json:"history,omitempty"`
}

func countCompute(path string) (storeCounts, error) {
	s, err := computebolt.NewStore(ctx, path)
	if err != nil {
		return storeCounts{}, err
	}
	defer s.Close(ctx)
	out := storeCounts{Counts: map[string]uint64{}, Executions: map[string]string{}}
	for _, state := range store.ExecutionStateTypes() {
		n, err := s.GetExecutionCount(ctx, state)
		if err != nil {
			return out, err
		}
		if n > 0 {
			out.Counts[state.String()] = n
		}
	}
	for _, jobID := range []string{"j-alpha", "j-beta", "j-gamma", "j-delta", "j-epsilon", "j-zeta"} {
		execs, err := s.GetExecutions(ctx, jobID)
		if err != nil {
			var notFound store.ErrExecutionsNotFoundForJob
			if errors.As(err, &notFound) {
				continue
			}
			return out, err
		}
		for _, e := range execs {
			out.Executions[e.Execution.ID] = e.State.String()
			if _, err := s.GetExecutionHistory(ctx, e.Execution.ID); err != nil {
				return out, fmt.Errorf("history of %s: %w", e.Execution.ID, err)
			}
		}
	}
	return out, nil
}

func countJobs(path string) (storeCounts, error) {
	s, err := boltjobstore.NewBoltJobStore(path)
	if err != nil {
		return storeCounts{}, err
	}
	defer s.Close(ctx)
	out := storeCounts{Counts: map[string]uint64{}, Executions: map[string]string{}, History: map[string]int{}}
	resp, err := s.GetJobs(ctx, jobstore.JobQuery{ReturnAll: true, Limit: 1000})
	if err != nil {
		return out, err
	}
	for _, job := range resp.Jobs {
		out.Jobs = append(out.Jobs, job.ID)
		execs, err := s.GetExecutions(ctx, jobstore.GetExecutionsOptions{JobID: job.ID})
		if err != nil {
			return out, err
		}
		for _, e := range execs {
			out.Counts[e.ComputeState.StateType.String()]++
			out.Executions[e.ID] = e.ComputeState.StateType.String()
		}
		history, err := s.GetJobHistory(ctx, job.ID, jobstore.JobHistoryQuery{})
		if err != nil {
			return out, err
		}
		out.History[job.ID] = len(history.JobHistory)
	}
	sort.Strings(out.Jobs)
	return out, nil
}

func counts(compute, jobs string) (map[string]any, error) {
	c, err := countCompute(compute)
	if err != nil {
		return nil, fmt.Errorf("compute store: %w", err)
	}
	j, err := countJobs(jobs)
	if err != nil {
		return nil, fmt.Errorf("job store: %w", err)
	}
	return map[string]any{"compute": c, "jobstore": j}, nil
}

func run(args []string) error {
	switch {
	case len(args) == 2 && args[0] == "gen":
		compute := filepath.Join(args[1], "bacalhau151_compute.db")
		jobs := filepath.Join(args[1], "bacalhau151_jobstore.db")
		for _, p := range []string{compute, jobs} {
			if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
		cutoff, err := genCompute(compute)
		if err != nil {
			return fmt.Errorf("compute store: %w", err)
		}
		if err := genJobs(jobs); err != nil {
			return fmt.Errorf("job store: %w", err)
		}
		out, err := counts(compute, jobs)
		if err != nil {
			return err
		}
		out["compute_cutoff"] = cutoff
		data, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(args[1], "bacalhau151_counts.json"), append(data, '\n'), 0o644)
	case len(args) == 3 && args[0] == "counts":
		out, err := counts(args[1], args[2])
		if err != nil {
			return err
		}
		return json.NewEncoder(os.Stdout).Encode(out)
	}
	return errors.New("usage: bacalhau gen OUTDIR | bacalhau counts COMPUTE.db JOBSTORE.db")
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bacalhau:", err)
		os.Exit(1)
	}
}
