package examples_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// goTool returns the go command that runs this test.
func goTool(t *testing.T) string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		t.Skip("no go command to build the examples with")
	}
	return p
}

// TestExamples builds every example, then runs each with flags that keep
// it short and checks what it prints.
func TestExamples(t *testing.T) {
	bin := t.TempDir()
	build := exec.Command(goTool(t), "build", "-o", bin+string(filepath.Separator), "./...")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./examples/...:\n%s", out)

	cases := []struct {
		name string
		args []string
		want []string
	}{
		// The noisy points of seed 42 fit best (least squares) a slope of 1.978.
		{"linear-regression-manual", nil, []string{"learned y = 1.97", "(the data were made with y = 2·x + 1)"}},
		{"linear-regression-autograd", nil, []string{"learned y = 1.97", "nn.Linear(1, 1) learned weight 1.97"}},
		{"perceptron", nil, []string{
			"AND  targets [0 0 0 1], predictions [0 0 0 1]", "OR   targets [0 1 1 1], predictions [0 1 1 1]",
			"NAND targets [1 1 1 0], predictions [1 1 1 0]", "XOR  targets [0 1 1 0]", "NOT learned after 100 epochs",
		}},
		{"xor", nil, []string{
			"    0  0.6948983669281006", "  100  0.6931558847427368       0.693155825138092 ",
			" 1000  0.6931380033493042       0.6931380033493042", " 4000  0.6929103136062622       0.6929103136062622",
			"the 4 losses the course quotes (epochs 0, 100, 1000, 4000) within float32 rounding (2 ulps): true",
			"course     [0.00011167928 0.9998288 0.9998424 0.00018532592]", "predicted  [0 1 1 0]", "accuracy   1",
		}},
		{"multiple-regression", nil, []string{"800 training and 200 validation samples", "learned weights [1.99", "bias 4.00"}},
		{"fashion-mlp", []string{"-data", "embedded", "-train", "1000", "-epochs", "1"}, []string{
			"training on 1000 images, testing on 1000", "epoch 1: mean loss", "test accuracy"}},
		{"fashion-cnn", []string{"-data", "embedded", "-train", "128", "-test", "200", "-epochs", "1"}, []string{
			"training on 128 images, testing on 200", "Conv2d(1, 32, kernel_size=(3, 3)", "epoch 1: mean loss"}},
		{"save-load-resume", nil, []string{"(same weights: true)", "resumed run == uninterrupted run, bit for bit: true"}},
		{"devices", nil, []string{"devices this binary can use: [cpu", "output in Go memory", "same output on the CPU"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(bin, tc.name), tc.args...)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			for _, w := range tc.want {
				require.Contains(t, string(out), w)
			}
		})
	}
}
