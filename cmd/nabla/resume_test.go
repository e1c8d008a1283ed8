package main

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/models"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

// editCheckpoint rewrites the checkpoint of the run in out through
// optim's own reader and writer, so that the file is sound as far as its
// checksum can tell and only the resume checks stand between its content
// and the run.
func editCheckpoint(t *testing.T, out string, edit func(c *optim.Checkpoint, model nn.Module)) {
	t.Helper()
	rec, err := readRunRecord(out)
	require.NoError(t, err)
	model, err := models.ByName(rec.Config.Model, rec.Config.Dropout)
	require.NoError(t, err)
	c := optim.Checkpoint{Model: model, Optimizer: makeOptimizer(rec.Config, model.Parameters()), DataGenerator: tensor.NewGenerator(0)}
	path := filepath.Join(out, checkpointFile)
	require.NoError(t, optim.LoadCheckpoint(path, &c))
	edit(&c, model)
	require.NoError(t, optim.SaveCheckpoint(path, c))
}

// TestResumeRefusesNonsense resumes from checkpoints whose content was
// changed with a valid checksum: a step past the epoch's end (which used
// to skip the rest of the epoch silently), a negative step, an epoch the
// history does not have, a loss sum that is not one, NaN weights. Each is
// refused with a message naming the problem.
func TestResumeRefusesNonsense(t *testing.T) {
	out := t.TempDir()
	interruptAt(t, 1, 3)
	code, stdout, stderr := runCLI(quickTrain(out, "-epochs", "2")...)
	require.Equal(t, 130, code, "stdout: %s\nstderr: %s", stdout, stderr)
	interruptAt(t, -1, -1)
	good, err := os.ReadFile(filepath.Join(out, checkpointFile))
	require.NoError(t, err)

	for _, c := range []struct {
		name string
		edit func(c *optim.Checkpoint, model nn.Module)
		want string
	}{
		{"step past the epoch", func(c *optim.Checkpoint, _ nn.Module) { c.Metadata[metaStep] = "99999" },
			"step 99999 is outside the epoch's 8 batches (0 to 7)"},
		{"negative step", func(c *optim.Checkpoint, _ nn.Module) { c.Metadata[metaStep] = "-4" }, "step -4 is outside"},
		{"epoch beyond the history", func(c *optim.Checkpoint, _ nn.Module) { c.Epoch = 1000000 },
			"it is at epoch 1000000 but its history records 0 epochs"},
		{"loss sum NaN", func(c *optim.Checkpoint, _ nn.Module) { c.Metadata[metaLossSum] = "NaN" },
			"the loss summed over the epoch's first 3 steps is NaN"},
		{"loss before the first step", func(c *optim.Checkpoint, _ nn.Module) {
			c.Metadata[metaStep], c.Metadata[metaLossSum] = "0", strconv.Itoa(5)
		}, "the loss summed before the epoch's first step is 5, not 0"},
		{"NaN weights", func(_ *optim.Checkpoint, m nn.Module) {
			w := nn.StateDict(m)[0].Tensor
			w.CopyFrom(tensor.FullLike(w, math.NaN()))
		}, "is not finite: element 0 is NaN"},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(filepath.Join(out, checkpointFile), good, 0o644))
			editCheckpoint(t, out, c.edit)
			code, _, stderr := runCLI("train", "-resume", "-out", out)
			require.Equal(t, 1, code, stderr)
			require.Contains(t, stderr, "-resume: ")
			require.Contains(t, stderr, c.want)
		})
	}
}

// TestResumeRemovesTheOldModel: a finished run has its weights in
// model.safetensors; resuming it to train on removes them until it writes
// new ones, so that nabla eval does not evaluate the old weights as if
// they were the run's result while it trains, or after it is
// interrupted.
func TestResumeRemovesTheOldModel(t *testing.T) {
	out := t.TempDir()
	code, _, stderr := runCLI(quickTrain(out, "-epochs", "1")...)
	require.Equal(t, 0, code, stderr)
	model := filepath.Join(out, modelFile)
	require.FileExists(t, model)

	interruptAt(t, 2, 2)
	code, stdout, stderr := runCLI("train", "-resume", "-out", out, "-epochs", "2")
	require.Equal(t, 130, code, "stdout: %s\nstderr: %s", stdout, stderr)
	require.Contains(t, stdout, "note: removed "+model+", the weights before this resume")
	require.NoFileExists(t, model)
	code, _, stderr = runCLI("eval", "-out", out)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, out+" holds no trained model (no model.safetensors) yet: its run stopped after 1 of 2 epochs")
	require.Contains(t, stderr, "train -resume -out "+out)

	interruptAt(t, -1, -1)
	code, _, stderr = runCLI("train", "-resume", "-out", out, "-epochs", "2")
	require.Equal(t, 0, code, stderr)
	require.FileExists(t, model)

	// Nothing to train: the weights stay.
	code, stdout, stderr = runCLI("train", "-resume", "-out", out, "-epochs", "2")
	require.Equal(t, 0, code, stderr)
	require.NotContains(t, stdout, "note: removed")
	require.FileExists(t, model)
}

// TestTrainRemovesLeftovers: a run killed during a write leaves the
// writer's temporary file in -out; the next write of that file removes
// it.
func TestTrainRemovesLeftovers(t *testing.T) {
	out := t.TempDir()
	var left []string
	for _, name := range []string{runFile, checkpointFile, modelFile, lossPNG} {
		p := filepath.Join(out, "."+name+".tmp-1234567")
		require.NoError(t, os.WriteFile(p, nil, 0o644))
		left = append(left, p)
	}
	code, _, stderr := runCLI(quickTrain(out, "-epochs", "1")...)
	require.Equal(t, 0, code, stderr)
	for _, p := range left {
		require.NoFileExists(t, p)
	}
}
