package main

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCommandDispatch(t *testing.T) {
	cases := []struct {
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{args: nil, code: 2, wantStderr: "usage: nabla <command>"},
		{args: []string{"help"}, code: 0, wantStderr: "commands:"},
		{args: []string{"frobnicate"}, code: 2, wantStderr: `unknown command "frobnicate" (want one of`},
		{args: []string{"devices"}, code: 0, wantStdout: "cpu"},
		{args: []string{"help"}, code: 0, wantStderr: "train "},
		{args: []string{"help"}, code: 0, wantStderr: "init-stats "},
		{args: []string{"devices", "extra"}, code: 2, wantStderr: `unexpected argument "extra"`},
		{args: []string{"devices", "-help"}, code: 0, wantStderr: "usage: nabla devices"},
		{args: []string{"bench", "-device", "tpu"}, code: 2, wantStderr: `-device "tpu": device: unknown device "tpu" (want cpu, cuda, cuda:N or auto)`},
		{args: []string{"bench", "-nope"}, code: 2, wantStderr: "flag provided but not defined: -nope"},
	}
	for _, tc := range cases {
		t.Run(fmtArgs(tc.args), func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			require.Equal(t, tc.code, code, "stderr: %s", stderr)
			require.Contains(t, stdout, tc.wantStdout)
			require.Contains(t, stderr, tc.wantStderr)
		})
	}
}

// smallTrainBench shrinks the training epochs of bench -quick for the
// duration of the test: a CNN epoch on the usual 2,048 images takes
// seconds on two cores.
func smallTrainBench(t *testing.T, samples int) {
	old := quickTrainSamples
	quickTrainSamples = samples
	t.Cleanup(func() { quickTrainSamples = old })
}

// trainRow matches a row of the training table on the CPU: nabla's
// numbers, no memory statistics, and torchCols for PyTorch's columns.
func trainRow(model string, batch, steps int, torchCols string) string {
	return fmt.Sprintf(`(?m)^ +%s +%d +%d +\d+\.\d{3} +\d+\.\d{3} +\d+ +- +%s$`, model, batch, steps, torchCols)
}

func TestBenchQuickWithoutTorch(t *testing.T) {
	smallTrainBench(t, 40)
	cases := []struct {
		name      string
		args      []string
		wantRows  []string
		wantTrain bool
	}{
		{"default: the MLP at batch 64", nil, []string{trainRow("mlp", 64, 1, "- +- +- +-")}, true},
		{"both models, two batch sizes", []string{"-train", "mlp,cnn", "-batch", "16,32"}, []string{
			trainRow("mlp", 16, 3, "- +- +- +-"), trainRow("mlp", 32, 2, "- +- +- +-"),
			trainRow("cnn", 16, 3, "- +- +- +-"), trainRow("cnn", 32, 2, "- +- +- +-"),
		}, true},
		{"no training epochs", []string{"-train", "none"}, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"bench", "-quick", "-torch=false", "-mintime", "1ms"}, tc.args...)
			code, stdout, stderr := runCLI(args...)
			require.Equal(t, 0, code, stderr)
			for _, name := range []string{"matmul_128", "add_1M", "exp_1M", "sum_1M", "softmax_256x1024"} {
				require.Contains(t, stdout, name)
			}
			if !tc.wantTrain {
				require.NotContains(t, stdout, "Training epochs")
				return
			}
			require.Contains(t, stdout, "Training epochs on 40 images of the embedded Fashion-MNIST test split")
			for _, row := range tc.wantRows {
				require.Regexp(t, row, stdout)
			}
		})
	}
}

// TestBenchWithTorch runs the PyTorch side of the training table on the
// CPU, where a python3 with torch is installed.
func TestBenchWithTorch(t *testing.T) {
	if findTorchPython() == "" {
		t.Skip("no python3 with torch (install python3-torch or set NABLA_PYTHON)")
	}
	smallTrainBench(t, 40)
	code, stdout, stderr := runCLI("bench", "-quick", "-mintime", "1ms", "-train", "mlp,cnn", "-batch", "16")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "timed in the same run")
	require.Contains(t, stdout, "PyTorch: the images in one float32 tensor in host memory")
	torchCols := `\d+\.\d{3} +\d+\.\d{3} +- +\d+\.\d{2}x`
	require.Regexp(t, trainRow("mlp", 16, 3, torchCols), stdout)
	require.Regexp(t, trainRow("cnn", 16, 3, torchCols), stdout)
}

func TestParseTrainFlags(t *testing.T) {
	cases := []struct {
		train, batch string
		wantModels   []string
		wantBatches  []int
	}{
		{"mlp", "64", []string{"mlp"}, []int{64}},
		{" cnn , mlp ", "512, 64", []string{"cnn", "mlp"}, []int{512, 64}},
		{"none", "64,512", nil, []int{64, 512}},
		{"", "1", nil, []int{1}},
	}
	for _, tc := range cases {
		models, err := parseTrainModels(tc.train)
		require.NoError(t, err)
		require.Equal(t, tc.wantModels, models, "-train %q", tc.train)
		batches, err := parseBatchSizes(tc.batch)
		require.NoError(t, err)
		require.Equal(t, tc.wantBatches, batches, "-batch %q", tc.batch)
	}
}

func TestBenchFlagErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-train", "gpt"}, `-train "gpt": unknown model "gpt" (want a comma-separated list of mlp or cnn, or none)`},
		{[]string{"-train", "mlp,,cnn"}, `-train "mlp,,cnn": unknown model ""`},
		{[]string{"-train", "cnn,cnn"}, `-train "cnn,cnn": cnn is listed twice`},
		{[]string{"-batch", "0"}, `-batch "0": "0" is not a positive batch size (want a comma-separated list such as 64,512)`},
		{[]string{"-batch", "64,big"}, `-batch "64,big": "big" is not a positive batch size`},
		{[]string{"-batch", ""}, `-batch "": "" is not a positive batch size`},
		{[]string{"-batch", "64,64"}, `-batch "64,64": 64 is listed twice`},
		{[]string{"-data", "/no/such/dir"}, `-data "/no/such/dir": no such directory`},
	}
	for _, tc := range cases {
		t.Run(fmtArgs(tc.args), func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"bench", "-torch=false"}, tc.args...)...)
			require.Equal(t, 2, code, "stdout: %s", stdout)
			require.Contains(t, stderr, "nabla bench: "+tc.want)
		})
	}
}

func TestBenchHelp(t *testing.T) {
	code, _, stderr := runCLI("bench", "-help")
	require.Equal(t, 0, code)
	for _, f := range []string{"-train string", "-batch string", "-data string"} {
		require.Contains(t, stderr, "\n  "+f+"\n")
	}
	require.NotContains(t, stderr, "-mlp", "the legacy switch is gone")
}

func TestWriteTrainTable(t *testing.T) {
	runs := []trainRun{{"mlp", 64}, {"cnn", 512}}
	ours := []trainResult{
		{Seconds: 0.5, Steps: 157, PeakAllocated: 3 << 20, PeakReserved: 8 << 20, HasMemory: true},
		{Seconds: 2, Steps: 20},
	}
	cases := []struct {
		name  string
		torch map[trainRun]trainResult
		want  []string
	}{
		{"without PyTorch", nil, []string{
			"model  batch  steps  nabla s/epoch  ms/step  samples/s  peak MiB  pytorch s/epoch  ms/step  peak MiB  nabla/pytorch speed",
			"  mlp     64    157          0.500    3.185      20000   3.0/8.0                -        -         -                    -",
			"  cnn    512     20          2.000  100.000       5000         -                -        -         -                    -",
		}},
		{"with PyTorch on one row", map[trainRun]trainResult{
			{"mlp", 64}: {Seconds: 1.25, Steps: 157, PeakAllocated: 5 << 19, PeakReserved: 20 << 20, HasMemory: true},
		}, []string{
			"  mlp     64    157          0.500    3.185      20000   3.0/8.0            1.250    7.962  2.5/20.0                2.50x",
			"  cnn    512     20          2.000  100.000       5000         -                -        -         -                    -",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			require.NoError(t, writeTrainTable(&out, runs, 10000, ours, tc.torch))
			for _, line := range tc.want {
				require.Contains(t, out.String(), line+"\n")
			}
		})
	}
}

func fmtArgs(args []string) string {
	if len(args) == 0 {
		return "no args"
	}
	s := args[0]
	for _, a := range args[1:] {
		s += " " + a
	}
	return s
}
