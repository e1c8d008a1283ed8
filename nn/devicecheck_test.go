package nn_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/device/cuda"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// otherDevice returns cuda:0: the GPU in a cuda build on a GPU machine,
// else the PTX virtual machine.
func otherDevice(t *testing.T) device.Device {
	t.Helper()
	gpu := device.CUDA(0)
	if _, err := device.Get(gpu); err == nil {
		return gpu
	}
	if err := cuda.UseEmulator(); err != nil {
		t.Skip("no cuda:0:", err)
	}
	return gpu
}

// TestDeviceMismatchNamesTheLayer: a model on one device fed an input on
// another panics with an ErrDevice *tensor.Error that names the layer
// (its repr and, in a Sequential, its place), both devices and the fix,
// rather than the op inside the layer (the fused LinearActivation of a
// Linear followed by a ReLU, say); tensor.Catch recovers it.
func TestDeviceMismatchNamesTheLayer(t *testing.T) {
	gpu := otherDevice(t)
	const fix = "; move the model with model.To(cuda:0) or the input with x.To(cpu) first"
	mismatch := "the input is on cuda:0 but the layer's parameters are on cpu" + fix
	cases := []struct {
		name  string
		model func() nn.Module
		input []int
		want  string
	}{
		{"Linear then ReLU (fused)", func() nn.Module { return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2)) }, []int{4, 3},
			"tensor: layer 0, Linear(in_features=3, out_features=8, bias=True): " + mismatch},
		{"a Linear alone", func() nn.Module { return nn.Linear(3, 8) }, []int{4, 3},
			"tensor: Linear(in_features=3, out_features=8, bias=True): " + mismatch},
		{"the second layer on another device", func() nn.Module {
			return nn.Sequential(nn.Linear(3, 8).To(gpu), nn.ReLU(), nn.Linear(8, 2, nn.NoBias()))
		}, []int{4, 3},
			"tensor: layer 2, Linear(in_features=8, out_features=2, bias=False): " + mismatch},
		{"nested Sequentials", func() nn.Module {
			return nn.Sequential(nn.Flatten(), nn.Sequential(nn.Linear(3, 8), nn.Sigmoid()))
		}, []int{4, 3},
			"tensor: layer 1.0, Linear(in_features=3, out_features=8, bias=True): " + mismatch},
		{"Conv2d", func() nn.Module { return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()) }, []int{2, 1, 8, 8},
			"tensor: layer 0, Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1)): " + mismatch},
		{"BatchNorm2d", func() nn.Module { return nn.BatchNorm2d(1) }, []int{2, 1, 8, 8},
			"tensor: BatchNorm2d(1, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True): " + mismatch},
		{"PReLU", func() nn.Module { return nn.Sequential(nn.PReLU()) }, []int{4, 3},
			"tensor: layer 0, PReLU(num_parameters=1): " + mismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.model()
			x := autograd.Const(tensor.Randn(tc.input...).To(gpu))
			err := tensor.Catch(func() { m.Forward(x) })
			require.ErrorIs(t, err, tensor.ErrDevice)
			require.EqualError(t, err, tc.want)
		})
	}

	// On the right device the checks are silent.
	m := nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Sequential(nn.Linear(8, 2))).To(gpu)
	require.NoError(t, tensor.Catch(func() { m.Forward(autograd.Const(tensor.Randn(4, 3).To(gpu))) }))
}

// TestReadmeDeviceMismatch checks the README's Devices section: its
// example's error, printed in two comment lines, is the one a model on the
// GPU fed a CPU input gives, and tensor.Catch recovers it.
func TestReadmeDeviceMismatch(t *testing.T) {
	gpu := otherDevice(t)
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	m := regexp.MustCompile(`fmt\.Println\(err\) // (.*)\n\s*// (.*)\n`).FindSubmatch(b)
	require.NotNil(t, m, "README.md: the Devices example prints the error in two comment lines")
	want := string(m[1]) + " " + string(m[2])

	model := nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2)).To(gpu)
	err = tensor.Catch(func() { model.Forward(autograd.Const(tensor.Randn(4, 3))) })
	require.ErrorIs(t, err, tensor.ErrDevice)
	require.EqualError(t, err, strings.ReplaceAll(want, "cuda:0", gpu.String()))
	require.Contains(t, string(b), "err := tensor.Catch(func() { model.Forward(autograd.Const(tensor.Randn(4, 3))) })")
}
