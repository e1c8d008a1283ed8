package main

import (
	"bufio"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/models"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// TestMain lets a test run the nabla command as a subprocess of the test
// binary (NABLA_TEST_MAIN=1), to send it real signals.
// The program names itself "nabla" in the commands it suggests: the test
// binary lives where go run's binaries do.
func TestMain(m *testing.M) {
	self = func() string { return "nabla" }
	if os.Getenv("NABLA_TEST_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// quickTrain are the flags of a small, fast training run on the embedded
// data: 512 training samples, 8 batches per epoch.
func quickTrain(out string, extra ...string) []string {
	return append([]string{"train", "-data", "embedded", "-limit", "512", "-batch", "64", "-out", out}, extra...)
}

func TestFlagErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	cases := []struct {
		name string
		args []string
		want []string // substrings of stderr
	}{
		{"bad model", []string{"train", "-model", "rnn"}, []string{`-model "rnn": unknown model (want mlp or cnn)`}},
		{"bad optimizer", []string{"train", "-optimizer", "lbfgs"}, []string{`-optimizer "lbfgs": unknown optimizer (want sgd, momentum, adagrad, rmsprop, adam or adamw)`}},
		{"bad device", []string{"train", "-device", "tpu"}, []string{`-device "tpu": device: unknown device "tpu" (want cpu, cuda, cuda:N or auto)`}},
		{"bad cuda ordinal", []string{"train", "-device", "cuda:x"}, []string{`-device "cuda:x"`, `"cuda:0"`}},
		{"negative epochs", []string{"train", "-epochs", "-1"}, []string{"-epochs -1: want a positive number of epochs (1 or more)"}},
		{"zero epochs", []string{"train", "-epochs", "0"}, []string{"-epochs 0: want a positive number of epochs"}},
		{"zero batch", []string{"train", "-batch", "0"}, []string{"-batch 0: want a positive batch size (1 or more)"}},
		{"negative lr", []string{"train", "-lr", "-0.1"}, []string{"-lr -0.1: want a finite, positive learning rate"}},
		{"NaN lr", []string{"train", "-lr", "nan"}, []string{"-lr NaN: want a finite, positive learning rate"}},
		{"infinite lr", []string{"train", "-lr", "inf"}, []string{"-lr +Inf: want a finite, positive learning rate"}},
		{"infinite lr, spelt out", []string{"train", "-lr", "+Infinity"}, []string{"-lr +Inf: want a finite, positive learning rate"}},
		{"negative weight decay", []string{"train", "-weight-decay", "-1"}, []string{"-weight-decay -1: want a finite number, 0 or more"}},
		{"infinite weight decay", []string{"train", "-weight-decay", "inf"}, []string{"-weight-decay +Inf: want a finite number, 0 or more"}},
		{"NaN weight decay", []string{"train", "-weight-decay", "NaN"}, []string{"-weight-decay NaN: want a finite number, 0 or more"}},
		{"bad schedule", []string{"train", "-schedule", "step"}, []string{`-schedule "step": unknown schedule (want cosine or none)`}},
		{"dropout of one", []string{"train", "-dropout", "1"}, []string{"-dropout 1: want a probability in [0, 1)"}},
		{"not a number", []string{"train", "-epochs", "many"}, []string{`invalid value "many" for flag -epochs`}},
		{"missing data dir", []string{"train", "-data", filepath.Join(dir, "nope")}, []string{
			`-data "` + filepath.Join(dir, "nope") + `": no such directory (want a directory holding train-images-idx3-ubyte`, `or "embedded"`}},
		{"data is a file", []string{"train", "-data", file}, []string{`-data "` + file + `": not a directory`}},
		{"resume without a run", []string{"train", "-resume", "-out", filepath.Join(dir, "none")}, []string{"-resume: no run to resume in", "train without -resume first"}},
		{"stray argument", []string{"train", "mlp"}, []string{`unexpected argument "mlp"`}},
		{"unknown flag", []string{"train", "-lerning-rate", "1"}, []string{"flag provided but not defined: -lerning-rate"}},
		{"eval bad model", []string{"eval", "-model", "vgg"}, []string{`-model "vgg": unknown model (want mlp or cnn)`}},
		{"eval bad batch", []string{"eval", "-batch", "-5"}, []string{"-batch -5: want a positive batch size"}},
		{"eval bad device", []string{"eval", "-device", "gpu"}, []string{`-device "gpu": device: unknown device "gpu"`}},
		{"init-stats bad activation", []string{"init-stats", "-activation", "tanh"}, []string{`-activation "tanh": unknown activation (want sigmoid, relu or both)`}},
		{"init-stats zero layers", []string{"init-stats", "-layers", "0"}, []string{"-layers 0: want a positive number of layers"}},
	}
	if len(device.List()) == 1 {
		cases = append(cases, struct {
			name string
			args []string
			want []string
		}{"cuda in a CPU-only build", []string{"train", "-device", "cuda"}, []string{`-device "cuda": device: CUDA is not available in this binary`, "this binary can use cpu"}})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			require.Equal(t, 2, code, "stdout: %s\nstderr: %s", stdout, stderr)
			for _, w := range tc.want {
				require.Contains(t, stderr, w)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	cases := []struct {
		cmd   string
		flags []string
	}{
		{"train", []string{"-model", "-device", "-epochs", "-batch", "-lr", "-optimizer", "-schedule", "-weight-decay", "-dropout", "-seed", "-data", "-out", "-resume"}},
		{"eval", []string{"-out", "-model-file", "-device", "-data"}},
		{"bench", []string{"-quick", "-torch", "-train", "-batch"}},
		{"init-stats", []string{"-activation", "-layers", "-out"}},
		{"devices", nil},
	}
	for _, tc := range cases {
		for _, help := range []string{"-help", "--help", "-h"} {
			t.Run(tc.cmd+" "+help, func(t *testing.T) {
				code, _, stderr := runCLI(tc.cmd, help)
				require.Equal(t, 0, code)
				require.Contains(t, stderr, "usage: nabla "+tc.cmd)
				for _, f := range tc.flags {
					require.Regexp(t, `\n  `+f+`[ \n]`, stderr)
				}
				require.NotContains(t, stderr, "-limit", "hidden flags stay hidden")
			})
		}
	}
}

func TestMissingData(t *testing.T) {
	empty := t.TempDir()
	code, _, stderr := runCLI("train", "-data", empty, "-out", t.TempDir())
	require.Equal(t, 1, code, stderr)
	require.Contains(t, stderr, "train-images-idx3-ubyte (or train-images-idx3-ubyte.gz) not found in "+empty)
	require.Contains(t, stderr, "dataset-fashion-mnist")

	t.Setenv("NABLA_DATA", filepath.Join(empty, "missing"))
	code, _, stderr = runCLI("train", "-out", t.TempDir())
	require.Equal(t, 1, code, stderr)
	require.Contains(t, stderr, `$NABLA_DATA="`+filepath.Join(empty, "missing")+`": no such directory`)
}

// requirePNG checks that path is a PNG image of a sensible size.
func requirePNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err, path)
	require.Greater(t, img.Bounds().Dx(), 200, path)
	require.Greater(t, img.Bounds().Dy(), 200, path)
}

// TestTrainAndEval trains for real on a subset of the embedded data, then
// evaluates the saved model.
func TestTrainAndEval(t *testing.T) {
	out := t.TempDir()
	defer func(d time.Duration) { logInterval = d }(logInterval)
	logInterval = 0 // a progress line after every step
	code, stdout, stderr := runCLI(quickTrain(out, "-epochs", "2", "-optimizer", "sgd", "-lr", "0.05", "-schedule", "none")...)
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", stdout, stderr)
	for _, want := range []string{
		"data: the embedded Fashion-MNIST test split (10,000 images), split into train 512, validation 1000, test 1000",
		"device: cpu",
		"optimizer: SGD(lr=0.05",
		"epoch 1/2: train loss ", "epoch 2/2: train loss ", "validation accuracy ",
		"test accuracy: ", "(1000 images)",
		"evaluate with: nabla eval -out " + out,
	} {
		require.Contains(t, stdout, want)
	}
	require.Contains(t, stderr, "epoch 1/2: step 1/8, loss ", "plain progress lines on a non-terminal")
	for _, f := range []string{checkpointFile, modelFile, runFile, lossPNG, accuracyPNG} {
		require.FileExists(t, filepath.Join(out, f))
	}
	requirePNG(t, filepath.Join(out, lossPNG))
	requirePNG(t, filepath.Join(out, accuracyPNG))
	rec, err := readRunRecord(out)
	require.NoError(t, err)
	require.Equal(t, "done", rec.Status)
	require.Equal(t, "mlp", rec.Config.Model)
	require.Len(t, rec.History, 2)
	for _, h := range rec.History {
		require.Positive(t, float64(h.ValLoss))
		require.Greater(t, h.TrainAccuracy, 0.0)
	}
	// 8 batches an epoch: a point of the training curve after each.
	require.Len(t, rec.Steps, 16)
	require.Equal(t, 0.125, rec.Steps[0].Epoch)
	require.Equal(t, 2.0, rec.Steps[15].Epoch)
	require.NotNil(t, rec.TestAccuracy)
	// 16 steps of SGD at lr 0.05 leave the loss near log(10); the
	// accuracy is then at the mercy of the seed (14% to 35% over seeds
	// 1 to 8), 24.8% with the default seed 1.
	require.Greater(t, *rec.TestAccuracy, 0.2, "even 16 steps of SGD beat chance (10%)")
	require.Equal(t, splitSizes{Train: 512, Val: 1000, Test: 1000}, rec.Sizes)

	t.Run("eval", func(t *testing.T) {
		code, stdout, stderr := runCLI("eval", "-out", out)
		require.Equal(t, 0, code, "stdout: %s\nstderr: %s", stdout, stderr)
		require.Contains(t, stdout, "test set: the held-out tenth of the embedded test split, 1000 images")
		require.Regexp(t, `accuracy: \d+\.\d\d% \(\d+ of 1000\)`, stdout)
		for _, name := range []string{"T-shirt/top", "Trouser", "Ankle boot", "confusion matrix (rows: true class, columns: predicted class)"} {
			require.Contains(t, stdout, name)
		}
		// eval's accuracy is train's test accuracy: the same test set.
		require.Contains(t, stdout, strings.TrimSuffix(strings.SplitN(strings.SplitN(stdout, "accuracy: ", 2)[1], " ", 2)[0], "%"))
		requirePNG(t, filepath.Join(out, confusionPNG))
	})
	t.Run("eval model-file", func(t *testing.T) {
		other := t.TempDir()
		weights := filepath.Join(other, "weights.safetensors")
		b, err := os.ReadFile(filepath.Join(out, modelFile))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(weights, b, 0o644))
		code, _, stderr := runCLI("eval", "-model-file", weights)
		require.Equal(t, 2, code)
		require.Contains(t, stderr, "no run.json beside it to say the architecture; give -model mlp or -model cnn")
		code, stdout, stderr := runCLI("eval", "-model-file", weights, "-model", "mlp", "-data", "embedded", "-png", filepath.Join(other, "cm.png"))
		require.Equal(t, 0, code, stderr)
		require.Contains(t, stdout, "accuracy: ")
		requirePNG(t, filepath.Join(other, "cm.png"))
		code, _, stderr = runCLI("eval", "-model-file", weights, "-model", "cnn", "-data", "embedded")
		require.Equal(t, 1, code)
		require.Contains(t, stderr, "nn: Load")
	})
	t.Run("eval without a model", func(t *testing.T) {
		empty := t.TempDir()
		code, _, stderr := runCLI("eval", "-out", empty, "-model", "mlp")
		require.Equal(t, 1, code)
		require.Contains(t, stderr, empty+" holds no trained model (no model.safetensors): train one with: nabla train -out "+empty)
	})
}

// interruptAt makes the next training run stop after step step of epoch
// epoch, as Ctrl-C would.
func interruptAt(t *testing.T, epoch, step int) {
	var cancel context.CancelFunc
	oldCtx, oldHook := interruptContext, afterStep
	interruptContext = func() (context.Context, context.CancelFunc) {
		var ctx context.Context
		ctx, cancel = context.WithCancel(context.Background())
		return ctx, cancel
	}
	afterStep = func(e, s int, _ nn.Module) {
		if e == epoch && s == step {
			cancel()
		}
	}
	t.Cleanup(func() { interruptContext, afterStep = oldCtx, oldHook })
}

// weights loads the MLP saved in dir and returns its tensors' values.
func weights(t *testing.T, dir string, dropout float64) map[string][]float32 {
	model := models.MLP(dropout)
	require.NoError(t, nn.Load(filepath.Join(dir, modelFile), model))
	out := map[string][]float32{}
	for _, nt := range nn.StateDict(model) {
		out[nt.Name] = nt.Tensor.Float32s()
	}
	return out
}

// TestResumeIsExact interrupts a run twice in the middle of epochs,
// resumes it each time, and requires the same weights, bit for bit, and
// the same history as a run that was never interrupted. Dropout makes
// the run draw from the default generator as well as the loader's.
func TestResumeIsExact(t *testing.T) {
	flags := []string{"-epochs", "3", "-dropout", "0.2", "-seed", "7"}
	straight := t.TempDir()
	code, stdout, stderr := runCLI(quickTrain(straight, flags...)...)
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", stdout, stderr)

	out := t.TempDir()
	interruptAt(t, 1, 3)
	code, stdout, stderr = runCLI(quickTrain(out, flags...)...)
	require.Equal(t, 130, code, "stdout: %s\nstderr: %s", stdout, stderr)
	require.Contains(t, stderr, "interrupted after step 3 of 8 in epoch 1; checkpoint saved to "+filepath.Join(out, checkpointFile))
	require.Contains(t, stderr, "resume with: nabla train -resume -out "+out)
	require.FileExists(t, filepath.Join(out, checkpointFile))
	require.NoFileExists(t, filepath.Join(out, modelFile))
	rec, err := readRunRecord(out)
	require.NoError(t, err)
	require.Equal(t, "interrupted", rec.Status)

	interruptAt(t, 2, 6)
	code, stdout, stderr = runCLI("train", "-resume", "-out", out)
	require.Equal(t, 130, code, "stdout: %s\nstderr: %s", stdout, stderr)
	require.Contains(t, stdout, "resuming "+filepath.Join(out, checkpointFile)+" from epoch 1, step 3 of 8")
	require.Contains(t, stderr, "interrupted after step 6 of 8 in epoch 2")

	interruptAt(t, -1, -1)
	code, stdout, stderr = runCLI("train", "-resume", "-out", out, "-seed", "7")
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", stdout, stderr)
	require.Contains(t, stdout, "from epoch 2, step 6 of 8")
	require.Contains(t, stdout, "epoch 3/3: train loss")

	require.Equal(t, weights(t, straight, 0.2), weights(t, out, 0.2), "resumed weights differ from the uninterrupted run's")
	a, err := readRunRecord(straight)
	require.NoError(t, err)
	b, err := readRunRecord(out)
	require.NoError(t, err)
	for i := range a.History {
		a.History[i].Seconds, b.History[i].Seconds = 0, 0
	}
	require.Equal(t, a.History, b.History)
	require.Equal(t, a.Steps, b.Steps, "the training curve of a resumed run is the uninterrupted run's")
	require.Len(t, a.Steps, 3*8)
	require.Equal(t, *a.TestAccuracy, *b.TestAccuracy)

	// Flags that define the run cannot change on resume.
	code, _, stderr = runCLI("train", "-resume", "-out", out, "-optimizer", "sgd")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "-resume: -optimizer sgd differs from the run in "+out+", which has -optimizer adam")

	// Raising -epochs trains on from the last checkpoint.
	code, stdout, stderr = runCLI("train", "-resume", "-out", out, "-epochs", "4")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "from the end of epoch 3")
	require.Contains(t, stdout, "epoch 4/4: train loss")
	// The run's hyperparameters, not the scheduled rate the checkpoint
	// holds, printed in %g (not 0.0002500000000000001).
	require.Contains(t, stdout, "optimizer: Adam(lr=0.001, ")
	require.NotRegexp(t, `\d\.\d{10}`, stdout)
}

// TestCtrlC runs nabla train as a subprocess and interrupts it with a real
// SIGINT: it must save a checkpoint and exit with status 130 and a
// message saying how to resume.
func TestCtrlC(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT on Windows")
	}
	out := t.TempDir()
	cmd := exec.Command(os.Args[0], "train", "-data", "embedded", "-limit", "2048", "-batch", "16", "-epochs", "100", "-out", out)
	cmd.Env = append(os.Environ(), "NABLA_TEST_MAIN=1")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(stdout)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.HasPrefix(sc.Text(), "training epochs") {
			break
		}
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "stdout: %s\nstderr: %s", strings.Join(lines, "\n"), stderr.String())
	require.Equal(t, 130, exit.ExitCode(), stderr.String())
	require.Contains(t, stderr.String(), "checkpoint saved to "+filepath.Join(out, checkpointFile))
	require.Contains(t, stderr.String(), "resume with: nabla train -resume -out "+out)
	require.FileExists(t, filepath.Join(out, checkpointFile))

	var rec runRecord
	b, err := os.ReadFile(filepath.Join(out, runFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &rec))
	require.Equal(t, "interrupted", rec.Status)
}

func TestInitStats(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runCLI("init-stats", "-out", out)
	require.Equal(t, 0, code, stderr)
	for _, want := range []string{
		"sigmoid: 5 layers of 100 units without bias, 1000 inputs drawn from N(0, 1)",
		"relu: 5 layers of 100 units",
		"layer 1 mean", "layer 5 mean", "std 1", "std 0.01", "Xavier", "He",
	} {
		require.Contains(t, stdout, want)
	}
	requirePNG(t, filepath.Join(out, "init-stats-sigmoid.png"))
	requirePNG(t, filepath.Join(out, "init-stats-relu.png"))
}

// TestInitStatsShowsTheLesson checks the numbers behind the experiment:
// with ReLU, std 0.01 makes the activations vanish and std 1 makes them
// explode, while He initialisation keeps their scale.
func TestInitStatsShowsTheLesson(t *testing.T) {
	tensor.ManualSeed(1)
	x := tensor.Randn(1000, 100)
	stats := map[string][]layerStats{}
	for _, sc := range initSchemes {
		stats[sc.name] = initExperiment(x, 5, 100, "relu", sc)
	}
	require.Less(t, stats["std 0.01"][4].std, 1e-4, "std 0.01: the activations vanish")
	require.Greater(t, stats["std 1"][4].std, 1e3, "std 1: the activations explode")
	require.InDelta(t, stats["He"][0].std, stats["He"][4].std, 0.5, "He: the scale is kept")
	require.Less(t, stats["Xavier"][4].std, stats["Xavier"][0].std/2, "Xavier halves the variance per ReLU layer")
}

// TestTrainCNN runs the convolutional network for a few steps, then
// evaluates it: eval rebuilds the architecture from run.json.
func TestTrainCNN(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runCLI("train", "-model", "cnn", "-data", "embedded", "-limit", "64", "-batch", "32", "-epochs", "1",
		"-optimizer", "adamw", "-dropout", "0.5", "-out", out)
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", stdout, stderr)
	require.Contains(t, stdout, "model: cnn, 421642 parameters")
	require.Contains(t, stdout, "optimizer: AdamW(lr=0.001")
	require.Contains(t, stdout, "weight_decay=0.01", "AdamW's default weight decay, as in PyTorch")
	require.Contains(t, stdout, "test accuracy: ")
	code, stdout, stderr = runCLI("eval", "-out", out)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "model: cnn from "+filepath.Join(out, modelFile))
}

// TestEpochLRMatchesTorchCosine checks the schedule against the values of
// torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=5, eta_min=0)
// stepped once per epoch from lr 1e-3 (PyTorch 1.13:
// [0.001, 0.0009045084971874737, 0.0006545084971874737,
// 0.00034549150281252633, 9.549150281252633e-05]).
func TestEpochLRMatchesTorchCosine(t *testing.T) {
	cfg := runConfig{LR: 1e-3, Schedule: "cosine"}
	want := []float64{0.001, 0.0009045084971874737, 0.0006545084971874737, 0.00034549150281252633, 9.549150281252633e-05}
	for e, w := range want {
		require.InDelta(t, w, epochLR(cfg, e, 5), 1e-15)
	}
	require.Equal(t, 1e-3, epochLR(runConfig{LR: 1e-3}, 3, 5))
}
