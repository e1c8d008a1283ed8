package conformance

import (
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/device/cuda"
	"github.com/nabla-go/nabla/tensor"
)

// noDevice says why no device besides the CPU is under test; empty when
// one is.
var noDevice string

// TestMain checks the real CUDA device when the process has one (built
// with -tags cuda on a machine with an NVIDIA GPU) and otherwise makes
// cuda:0 the PTX virtual machine, which runs the backend's real kernels
// in pure Go.
func TestMain(m *testing.M) {
	if len(devices()) == 0 {
		if err := cuda.UseEmulator(); err != nil {
			// Built with the cuda tag on a machine without a GPU.
			noDevice = err.Error()
		}
	}
	os.Exit(m.Run())
}

// emulated reports whether dev is the PTX virtual machine.
func emulated(t *testing.T, dev device.Device) bool {
	t.Helper()
	b, err := device.Get(dev)
	require.NoError(t, err)
	e, ok := b.(interface{ Emulated() bool })
	return ok && e.Emulated()
}

// devices returns every device but the CPU.
func devices() []device.Device {
	var out []device.Device
	for _, d := range device.List() {
		if !d.IsCPU() {
			out = append(out, d)
		}
	}
	return out
}

// forEachDevice runs f as a subtest per device under test.
func forEachDevice(t *testing.T, f func(t *testing.T, dev device.Device)) {
	devs := devices()
	if len(devs) == 0 {
		require.NotEmpty(t, noDevice, "no device besides the CPU, yet the PTX virtual machine started")
		t.Skipf("no device besides the CPU: %s", noDevice)
	}
	for _, dev := range devs {
		t.Run(dev.String(), func(t *testing.T) { f(t, dev) })
	}
}

// tolerance is the relative bound of a comparison with the CPU for dt.
func tolerance(dt tensor.DType, f32 float64) float64 {
	if dt == tensor.Float64 {
		return 1e-10
	}
	return f32
}

// requireClose compares got (on any device) with want (on the CPU): every
// element within rel of the larger of its own magnitude and the tensor's
// largest magnitude times 1e-3, the scale at which float rounding shows
// for sums of mixed signs. rel 0 demands bit equality.
func requireClose(t *testing.T, what string, want, got *tensor.Tensor, rel float64) {
	t.Helper()
	require.NotNil(t, got, "%s: missing", what)
	require.Equal(t, want.Shape(), got.Shape(), "%s: shape", what)
	require.Equal(t, want.DType(), got.DType(), "%s: dtype", what)
	w := want.CPU().As(tensor.Float64).Float64s()
	g := got.CPU().As(tensor.Float64).Float64s()
	scale := 0.0
	for _, v := range w {
		scale = max(scale, math.Abs(v))
	}
	worst, at := 0.0, -1
	for i := range w {
		if math.IsNaN(w[i]) || math.IsNaN(g[i]) {
			require.True(t, math.IsNaN(w[i]) && math.IsNaN(g[i]), "%s[%d]: want %v, got %v", what, i, w[i], g[i])
			continue
		}
		d := math.Abs(g[i] - w[i])
		if rel == 0 {
			if d != 0 {
				require.Failf(t, "not bit-identical", "%s[%d]: want %v, got %v", what, i, w[i], g[i])
			}
			continue
		}
		if e := d / max(math.Abs(w[i]), scale*1e-3, 1e-30); e > worst {
			worst, at = e, i
		}
	}
	if worst > rel {
		require.Failf(t, "differs from the CPU", "%s[%d]: want %v, got %v (relative error %.3g > %.3g)", what, at, w[at], g[at], worst, rel)
	}
}

// dtypes are the float dtypes every case runs in.
var dtypes = []tensor.DType{tensor.Float32, tensor.Float64}

func name(parts ...any) string { return fmt.Sprint(parts...) }
