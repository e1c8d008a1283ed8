package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/ptxvm"
)

// TestMatMulOlderPTX runs the matrix-product kernels from the compute_70
// and compute_80 PTX (the tensor conformance suite runs the one a 9.0
// device loads, compute_80) on virtual GPUs of compute capability 7.0 and
// 8.0, against the CPU: float32 with and without TF32, float64, transposed operands and
// batches.
func TestMatMulOlderPTX(t *testing.T) {
	ref, err := device.Get(device.CPU())
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(3, 4))
	type shape struct{ batch, m, k, n int }
	// The last two take the 128x128-tile kernels (and their TF32 forms).
	shapes := []shape{{1, 1, 1, 1}, {1, 7, 33, 65}, {3, 17, 9, 31}, {2, 65, 130, 33}, {1, 130, 37, 129}, {2, 128, 16, 256}}
	for _, major := range []int{7, 8} {
		vm := ptxvm.New(ptxvm.Config{Major: major})
		b, err := newBackend(&vmDriver{dev: vm}, 0)
		require.NoError(t, err)
		wantCode := map[int]string{7: "compute_70 PTX", 8: "compute_70 PTX; matmul: compute_80 PTX"}[major]
		require.Equal(t, wantCode, b.KernelCode())
		for _, dt := range []device.DType{device.Float32, device.Float64} {
			for _, tf32 := range []bool{false, true} {
				if tf32 && dt != device.Float32 {
					continue
				}
				for _, s := range shapes {
					for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
						name := fmt.Sprintf("sm_%d0/%v/tf32=%v/%v/transA=%v/transB=%v", major, dt, tf32, s, tr[0], tr[1])
						t.Run(name, func(t *testing.T) {
							SetAllowTF32(tf32)
							defer SetAllowTF32(false)
							checkMatMul(t, b, ref, r, dt, s.batch, s.m, s.k, s.n, tr[0], tr[1], tf32)
						})
					}
				}
			}
		}
		t.Logf("sm_%d0 kernels: %v", major, vm.Launched())
		if major == 8 {
			tf32Kernels := 0
			for name := range vm.Launched() {
				if strings.Contains(name, "tf32") {
					tf32Kernels++
				}
			}
			require.NotZero(t, tf32Kernels, "the TF32 (mma.sync) kernels ran")
		}
		require.NoError(t, b.Close())
	}
}

// checkMatMul compares one product on b with the CPU's.
func checkMatMul(t *testing.T, b *Backend, ref device.Backend, r *rand.Rand, dt device.DType, batch, m, k, n int, transA, transB, tf32 bool) {
	av := make([]float64, batch*m*k)
	bv := make([]float64, batch*k*n)
	for i := range av {
		av[i] = r.Float64()*2 - 1
	}
	for i := range bv {
		bv[i] = r.Float64()*2 - 1
	}
	la := device.Contiguous(batch, m, k)
	if transA { // a stored as [batch, k, m]
		la = device.Layout{Shape: []int{batch, m, k}, Strides: []int{m * k, 1, m}}
	}
	lb := device.Contiguous(batch, k, n)
	if transB { // b stored as [batch, n, k], viewed as [batch, k, n]
		lb = device.Layout{Shape: []int{batch, k, n}, Strides: []int{n * k, 1, k}}
	}
	lo := device.Contiguous(batch, m, n)
	run := func(be device.Backend) []float64 {
		x, y := toBuffer(t, be, dt, av), toBuffer(t, be, dt, bv)
		out, err := be.Alloc(dt, batch*m*n)
		require.NoError(t, err)
		require.NoError(t, be.MatMul(device.View{Buf: out, Layout: lo}, device.View{Buf: x, Layout: la}, device.View{Buf: y, Layout: lb}))
		return fromBuffer(t, be, dt, out)
	}
	want, got := run(ref), run(b)
	// Bound relative to Σ|a||b|, the scale of the rounding error.
	tol := 1e-5
	switch {
	case tf32:
		tol = 5e-3
	case dt == device.Float64:
		tol = 1e-12
	}
	for i := range want {
		scale := float64(k)
		require.LessOrEqual(t, math.Abs(got[i]-want[i]), tol*scale, "element %d: cpu %v, device %v", i, want[i], got[i])
	}
}

func toBuffer(t *testing.T, be device.Backend, dt device.DType, v []float64) device.Buffer {
	buf, err := be.Alloc(dt, len(v))
	require.NoError(t, err)
	if dt == device.Float32 {
		f := make([]float32, len(v))
		for i := range v {
			f[i] = float32(v[i])
		}
		require.NoError(t, be.Upload(buf, f))
	} else {
		require.NoError(t, be.Upload(buf, v))
	}
	return buf
}

func fromBuffer(t *testing.T, be device.Backend, dt device.DType, buf device.Buffer) []float64 {
	if dt == device.Float64 {
		out := make([]float64, buf.Len())
		require.NoError(t, be.Download(out, buf))
		return out
	}
	f := make([]float32, buf.Len())
	require.NoError(t, be.Download(f, buf))
	out := make([]float64, len(f))
	for i := range f {
		out[i] = float64(f[i])
	}
	return out
}
