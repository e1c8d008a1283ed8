package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/models"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

// TestFlagParseErrors: an unknown or malformed flag gives the flag
// package's message on one line and a pointer to -help, nothing else (not
// the whole usage, not the message twice).
func TestFlagParseErrors(t *testing.T) {
	cases := []struct {
		args []string
		msg  string
	}{
		{[]string{"train", "-lerning-rate", "1"}, "flag provided but not defined: -lerning-rate"},
		{[]string{"train", "-epochs", "many"}, `invalid value "many" for flag -epochs: parse error`},
		{[]string{"train", "-epochs"}, "flag needs an argument: -epochs"},
		{[]string{"train", "-resume=maybe"}, `invalid boolean value "maybe" for -resume: parse error`},
		{[]string{"eval", "-batch", "x"}, `invalid value "x" for flag -batch: parse error`},
		{[]string{"bench", "-nope"}, "flag provided but not defined: -nope"},
		{[]string{"bench", "-mlp=false"}, "flag provided but not defined: -mlp"}, // the legacy flag is gone
		{[]string{"init-stats", "-layers", "1.5"}, `invalid value "1.5" for flag -layers: parse error`},
		{[]string{"devices", "-v"}, "flag provided but not defined: -v"},
	}
	for _, tc := range cases {
		t.Run(fmtArgs(tc.args), func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			require.Equal(t, 2, code)
			require.Empty(t, stdout)
			cmd := tc.args[0]
			require.Equal(t, "nabla "+cmd+": "+tc.msg+"\nrun \"nabla "+cmd+" -help\" for the flags\n", stderr)
		})
	}
}

// TestInvocation: the commands the program suggests start it the way the
// user did, go run included.
func TestInvocation(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "go.mod"), []byte("module github.com/nabla-go/nabla\n\ngo 1.26.0\n"), 0o644))
	pkgDir := filepath.Join(root, "cmd", "nabla")
	require.NoError(t, os.MkdirAll(pkgDir, 0o755))
	const mainPkg, module = "github.com/nabla-go/nabla/cmd/nabla", "github.com/nabla-go/nabla"
	tmpExe := "/tmp/go-build1593452985/b001/exe/nabla"
	cacheExe := "/home/u/.cache/go-build/b0/b07486630a6324772eea6dbc5a4de60dee05bc47b0292a2b51c640c89f0ee009-d/nabla"
	customCacheExe := "/srv/cache/b0/b07486630a6324772eea6dbc5a4de60dee05bc47b0292a2b51c640c89f0ee009-d/nabla"
	cases := []struct {
		name, argv0, cwd, version, want string
	}{
		{"on the PATH", "nabla", root, "(devel)", "nabla"},
		{"a relative path", "./nabla", root, "(devel)", "./nabla"},
		{"an absolute path", "/usr/local/bin/nabla", root, "(devel)", "/usr/local/bin/nabla"},
		{"go run in the clone", tmpExe, root, "(devel)", "go run ./cmd/nabla"},
		{"go run from the build cache", cacheExe, root, "(devel)", "go run ./cmd/nabla"},
		{"go run from a custom GOCACHE", customCacheExe, root, "(devel)", "go run ./cmd/nabla"},
		{"go run . in cmd/nabla", tmpExe, pkgDir, "(devel)", "go run ."},
		{"go run from a sub-directory", tmpExe, filepath.Join(root, "cmd"), "(devel)", "go run ./nabla"},
		{"go run pkg@version elsewhere", tmpExe, t.TempDir(), "v0.3.0", "go run github.com/nabla-go/nabla/cmd/nabla@v0.3.0"},
		{"go run of a local build elsewhere", tmpExe, t.TempDir(), "(devel)", "go run github.com/nabla-go/nabla/cmd/nabla"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, invocation(tc.argv0, tc.cwd, mainPkg, module, tc.version))
		})
	}
}

// readRecord reads run.json as any JSON reader would.
func readRecord(t *testing.T, dir string) runRecord {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, runFile))
	require.NoError(t, err)
	var rec runRecord
	require.NoError(t, json.Unmarshal(b, &rec), "run.json must be valid JSON:\n%s", b)
	return rec
}

// TestDivergedRun: a run whose training loss becomes NaN stops with a
// clear message, keeps the last model with a finite loss (if any), and
// leaves a valid, consistent run.json; -resume and eval say what
// happened.
func TestDivergedRun(t *testing.T) {
	defer func(d time.Duration) { logInterval = d }(logInterval)
	logInterval = 0 // the loss is read after every step, so divergence is seen at once
	cases := []struct {
		name string
		args []string
		// poison, when > 0, sets the weights to NaN after this step of
		// epoch 2, as a learning rate that blows up late would.
		poison    int
		wantEpoch int
		wantStep  int // -1: at the end of the epoch or earlier
		wantKept  bool
	}{
		{name: "SGD with -lr 1e6 diverges in epoch 1", args: []string{"-optimizer", "sgd", "-lr", "1e6"}, wantEpoch: 1, wantStep: -1},
		{name: "NaN weights in epoch 2", args: []string{"-optimizer", "sgd", "-lr", "0.05"}, poison: 2, wantEpoch: 2, wantStep: 3, wantKept: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			old := afterStep
			t.Cleanup(func() { afterStep = old })
			afterStep = func(epoch, step int, model nn.Module) {
				if epoch == 2 && step == tc.poison {
					w := model.Parameters()[0].Detach()
					w.CopyFrom(tensor.Full(math.NaN(), w.Shape()...))
				}
			}
			code, stdout, stderr := runCLI(quickTrain(out, append([]string{"-epochs", "3"}, tc.args...)...)...)
			require.Equal(t, 1, code, "stdout: %s\nstderr: %s", stdout, stderr)
			require.Contains(t, stderr, "nabla train: training diverged: the mean training loss of epoch "+strconv.Itoa(tc.wantEpoch)+" became ")
			require.Contains(t, stderr, "train a new run with a smaller -lr than")
			require.NotContains(t, stderr, "json: unsupported value")

			rec := readRecord(t, out)
			require.Equal(t, statusDiverged, rec.Status)
			require.NotNil(t, rec.Diverged)
			require.Equal(t, tc.wantEpoch, rec.Diverged.Epoch)
			if tc.wantStep > 0 {
				require.Equal(t, tc.wantStep, rec.Diverged.Step, "training stops at the first NaN loss it sees, not at the end of the epoch")
			}
			loss, err := strconv.ParseFloat(rec.Diverged.Loss, 64)
			require.NoError(t, err)
			require.False(t, isFinite(loss), rec.Diverged.Loss)
			require.Len(t, rec.History, tc.wantEpoch-1, "the history holds the finished epochs with a finite loss")
			for _, h := range rec.History {
				require.True(t, isFinite(h.TrainLoss))
			}

			if !tc.wantKept {
				require.Contains(t, stderr, "nothing to keep: no epoch finished with a finite loss")
				require.Nil(t, rec.TestAccuracy)
				for _, f := range []string{checkpointFile, modelFile, lossPNG} {
					require.NoFileExists(t, filepath.Join(out, f))
				}
				code, _, stderr = runCLI("eval", "-out", out)
				require.Equal(t, 1, code)
				require.Contains(t, stderr, out+" holds no trained model (no model.safetensors): its run diverged before an epoch finished (training loss ")
			} else {
				require.Contains(t, stderr, "kept the model of epoch 1 (validation accuracy ")
				require.NotNil(t, rec.TestAccuracy)
				requirePNG(t, filepath.Join(out, lossPNG))
				// The model kept is the checkpoint's, the end of epoch 1,
				// which is left as it was.
				ck := optim.Checkpoint{Model: models.MLP(0)}
				require.NoError(t, optim.LoadCheckpoint(filepath.Join(out, checkpointFile), &ck))
				require.Equal(t, 1, ck.Epoch)
				kept := weights(t, out, 0)
				for _, nt := range nn.StateDict(ck.Model) {
					require.Equal(t, nt.Tensor.Float32s(), kept[nt.Name])
					for _, v := range kept[nt.Name] {
						require.False(t, math.IsNaN(float64(v)))
					}
				}
				code, stdout, stderr = runCLI("eval", "-out", out)
				require.Equal(t, 0, code, stderr)
				require.Contains(t, stdout, fmt.Sprintf("accuracy: %.2f%%", 100**rec.TestAccuracy), "run.json's test accuracy is the kept model's")
				require.Contains(t, stdout, "note: the run diverged (training loss NaN in epoch 2 after 3 batches); this is its model of epoch 1, the last with a finite loss")
			}

			code, _, stderr = runCLI("train", "-resume", "-out", out)
			require.Equal(t, 2, code)
			require.Contains(t, stderr, "-resume: the run in "+out+" diverged (training loss ")
			require.Contains(t, stderr, "resuming it would diverge again")
		})
	}
}

// TestOutNotWritable: an -out that cannot be written is reported before
// the data is loaded, naming the directory, not a temporary file.
func TestOutNotWritable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	empty := t.TempDir() // no data in it: loading would fail, if it came first
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"train under a file", []string{"train", "-data", empty, "-out", filepath.Join(file, "run")},
			"nabla train: -out " + filepath.Join(file, "run") + ": cannot create the directory: not a directory"},
		{"eval -png under a file", []string{"eval", "-model-file", filepath.Join(dir, "w.safetensors"), "-model", "mlp", "-png", filepath.Join(file, "cm.png")},
			"nabla eval: -png " + filepath.Join(file, "cm.png") + ": " + file + ": cannot create the directory: not a directory"},
	}
	if os.Geteuid() != 0 { // root writes anywhere
		ro := filepath.Join(dir, "read-only")
		require.NoError(t, os.Mkdir(ro, 0o555))
		cases = append(cases, struct {
			name string
			args []string
			want string
		}{"train in a read-only directory", []string{"train", "-data", empty, "-out", ro}, "nabla train: -out " + ro + ": cannot write in it: permission denied"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			require.Equal(t, 2, code, "stdout: %s\nstderr: %s", stdout, stderr)
			require.Equal(t, tc.want+"\n", stderr)
			require.Empty(t, stdout, "nothing done before the check")
		})
	}

	err := writeFileAtomic(filepath.Join(file, "run.json"), []byte("{}"))
	require.EqualError(t, err, "cannot write run.json (in "+file+"): not a directory")
}

// TestEvalWithoutModel: eval -out DIR on a directory without a trained
// model says so, and what to do, whatever the directory holds.
func TestEvalWithoutModel(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	empty := t.TempDir()
	stopped := t.TempDir()
	b, err := json.Marshal(runRecord{Config: runConfig{Model: "mlp"}, Epochs: 5, Status: statusInterrupted, History: make([]epochStats, 2)})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(stopped, runFile), b, 0o644))
	cases := []struct {
		name, dir, want string
	}{
		{"no such directory", missing, "nabla eval: -out " + missing + ": no such directory, so no trained model there: train one with: nabla train -out " + missing},
		{"an empty directory", empty, "nabla eval: " + empty + " holds no trained model (no model.safetensors): train one with: nabla train -out " + empty + " (or evaluate a weights file with -model-file FILE -model mlp|cnn)"},
		{"an interrupted run", stopped, "nabla eval: " + stopped + " holds no trained model (no model.safetensors) yet: its run stopped after 2 of 5 epochs (status \"interrupted\"); finish it with: nabla train -resume -out " + stopped},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI("eval", "-out", tc.dir)
			require.Equal(t, 1, code)
			require.Equal(t, tc.want+"\n", stderr)
			require.NotContains(t, stderr, "give -model", "the architecture is not what is missing")
		})
	}
}

// TestBatchLargerThanTrainingSet: a -batch above the number of training
// samples trains (one step per epoch) and says so.
func TestBatchLargerThanTrainingSet(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runCLI("train", "-data", "embedded", "-limit", "100", "-batch", "256", "-epochs", "1", "-out", out)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "note: -batch 256 is larger than the training set (100 samples): every epoch is one batch of 100, one step\n")
	require.Contains(t, stdout, "training epochs 1 to 1: 1 batch of 100\n")
}
