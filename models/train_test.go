package models

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/ptxvm"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

// syntheticImages is a small stand-in for Fashion-MNIST, n random 1×28×28
// images with labels in 0..9, so that these tests need no data set.
func syntheticImages(t *testing.T, n int) data.Dataset {
	g := tensor.NewGenerator(11)
	opts := tensor.Options{}.WithGenerator(g)
	ds, err := data.TensorDataset(opts.Rand(n, 1, 28, 28), opts.RandInt(0, 10, n))
	require.NoError(t, err)
	return ds
}

// trainOnce trains a fresh model (fixed seeds) for one epoch on dev and
// returns TrainEpoch's mean loss and the loss of every step it reported,
// read with StepStats.Loss when readLoss is set. stopAfter > 0 stops the
// epoch after that many steps.
func trainOnce(t *testing.T, dev device.Device, newModel func(float64) nn.Module, ds data.Dataset, batch, stopAfter int, withCallback, readLoss bool) (float64, []float64) {
	tensor.ManualSeed(5)
	model := newModel(0).To(dev)
	loader, err := data.NewLoader(ds, data.BatchSize(batch), data.ShuffleWith(tensor.NewGenerator(6)), data.ToDevice(dev))
	require.NoError(t, err)
	var losses []float64
	var onStep func(StepStats) bool
	if withCallback {
		onStep = func(s StepStats) bool {
			require.Equal(t, len(losses), s.Step)
			require.Positive(t, s.Samples)
			if readLoss {
				losses = append(losses, s.Loss())
			} else {
				losses = append(losses, 0)
			}
			return stopAfter == 0 || s.Step+1 < stopAfter
		}
	}
	mean, err := TrainEpoch(model, loader, optim.Adam(model.Parameters(), 1e-3), onStep)
	require.NoError(t, err)
	return mean, losses
}

// TestTrainEpochLoss checks that the mean loss TrainEpoch sums on the
// device is, bit for bit, the float64 mean of the per-step losses read on
// the host, with and without a callback, for a full epoch, one whose last
// batch is short, and one stopped early.
func TestTrainEpochLoss(t *testing.T) {
	ds := syntheticImages(t, 40)
	cases := []struct {
		name      string
		model     func(float64) nn.Module
		batch     int
		stopAfter int
		wantSteps int
	}{
		{"mlp/full batches", MLP, 8, 0, 5},
		{"mlp/short last batch", MLP, 16, 0, 3},
		{"mlp/stopped early", MLP, 8, 2, 2},
		{"cnn/short last batch", CNN, 16, 0, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mean, losses := trainOnce(t, device.CPU(), tc.model, ds, tc.batch, tc.stopAfter, true, true)
			require.Len(t, losses, tc.wantSteps)
			var sum float64
			for _, l := range losses {
				require.Positive(t, l)
				sum += l
			}
			require.Equal(t, sum/float64(len(losses)), mean)
			if tc.stopAfter == 0 {
				// Reading the loss, or having a callback at all, changes
				// nothing in the training or its result.
				quiet, _ := trainOnce(t, device.CPU(), tc.model, ds, tc.batch, 0, false, false)
				require.Equal(t, mean, quiet)
				unread, _ := trainOnce(t, device.CPU(), tc.model, ds, tc.batch, 0, true, false)
				require.Equal(t, mean, unread)
			}
		})
	}
}

// vmChildEnv marks the child process in which
// TestTrainEpochReadsTheDeviceOnce runs on the PTX virtual machine.
const vmChildEnv = "NABLA_MODELS_VM_CHILD"

// TestTrainEpochReadsTheDeviceOnce trains on the PTX virtual machine,
// which counts the copies to the host: an epoch reads the device once
// (its mean loss) unless the callback asks for the step's loss, which
// costs one read per call. Without a CUDA device it runs itself in a
// child process with NABLA_CUDA=emulate, so that cuda:0 exists only
// there and no other test of the package meets it.
func TestTrainEpochReadsTheDeviceOnce(t *testing.T) {
	dev := device.CUDA(0)
	if !slices.Contains(device.List(), dev) {
		if os.Getenv(vmChildEnv) == "1" {
			t.Skip("NABLA_CUDA=emulate gave no cuda:0: built with the cuda tag on a machine without a GPU")
		}
		if testing.Short() {
			t.Skip("runs a child process on the PTX virtual machine")
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestTrainEpochReadsTheDeviceOnce$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "NABLA_CUDA=emulate", vmChildEnv+"=1")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "child process:\n%s", out)
		if strings.Contains(string(out), "--- SKIP: TestTrainEpochReadsTheDeviceOnce") {
			t.Skipf("skipped in the child process:\n%s", out)
		}
		require.Contains(t, string(out), "--- PASS: TestTrainEpochReadsTheDeviceOnce", "child process:\n%s", out)
		return
	}
	b, err := device.Get(dev)
	require.NoError(t, err)
	if e, ok := b.(interface{ Emulated() bool }); !ok || !e.Emulated() {
		t.Skip("cuda:0 is a GPU: the host reads are counted by the PTX virtual machine")
	}
	vm := ptxvm.Shared()
	ds := syntheticImages(t, 40)
	// The loss is the CPU's up to float32 rounding: the device sums in
	// another order.
	want, _ := trainOnce(t, device.CPU(), MLP, ds, 8, 0, false, false)
	cases := []struct {
		name                   string
		withCallback, readLoss bool
		wantDownloads          uint64
	}{
		{"no callback", false, false, 1},
		{"callback without the loss", true, false, 1},
		{"callback reading the loss", true, true, 1 + 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, b.Synchronize())
			before := vm.Stats().CopiesDtoH
			mean, _ := trainOnce(t, dev, MLP, ds, 8, 0, tc.withCallback, tc.readLoss)
			require.NoError(t, b.Synchronize())
			// Each download copies its data and, behind it, the
			// device's error word; the Synchronize copies the word.
			require.Equal(t, 2*tc.wantDownloads+1, vm.Stats().CopiesDtoH-before)
			require.InEpsilon(t, want, mean, 1e-5)
		})
	}
}

// TestTrainEpochWithoutBatches checks the error for an empty loader.
func TestTrainEpochWithoutBatches(t *testing.T) {
	empty, err := data.NewSubset(syntheticImages(t, 4), nil)
	require.NoError(t, err)
	loader, err := data.NewLoader(empty, data.BatchSize(8))
	require.NoError(t, err)
	model := MLP(0)
	_, err = TrainEpoch(model, loader, optim.Adam(model.Parameters(), 1e-3), nil)
	require.ErrorContains(t, err, "the loader produced no batches")
}
