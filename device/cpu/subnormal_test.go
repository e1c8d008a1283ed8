package cpu

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

// TestFlushSubnormals checks that CPU kernels flush subnormal results to
// zero and read subnormal operands as zero by default, keep them after
// SetFlushSubnormals(false), and leave the calling goroutine's floating
// point as they found it.
func TestFlushSubnormals(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("subnormals are flushed on amd64 only")
	}
	cpu, err := device.Get(device.CPU())
	require.NoError(t, err)
	tiny := math.Float32frombits(1 << 20) // a subnormal, about 1.5e-39
	mul := func(a, b []float32) []float32 {
		x, y, z := mustBuf(t, cpu, a), mustBuf(t, cpu, b), mustBuf(t, cpu, make([]float32, len(a)))
		l := device.Contiguous(len(a))
		require.NoError(t, cpu.Binary(device.Mul, device.View{Buf: z, Layout: l}, device.View{Buf: x, Layout: l}, device.View{Buf: y, Layout: l}))
		out := make([]float32, len(a))
		require.NoError(t, cpu.Download(out, z))
		return out
	}
	for _, n := range []int{3, 1 << 18} { // on the calling goroutine, and split over goroutines
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			a, b := make([]float32, n), make([]float32, n)
			for i := range a {
				a[i], b[i] = 1e-20, 1e-20 // product 1e-40: subnormal
			}
			a[n-1], b[n-1] = tiny, 1 // a subnormal operand
			require.True(t, FlushSubnormals())
			got := mul(a, b)
			require.Equal(t, float32(0), got[0], "subnormal result flushed")
			require.Equal(t, float32(0), got[n-1], "subnormal operand read as zero")

			prev := SetFlushSubnormals(false)
			defer SetFlushSubnormals(prev)
			require.True(t, prev)
			got = mul(a, b)
			require.Equal(t, float32(1e-20)*float32(1e-20), got[0], "IEEE gradual underflow")
			require.Equal(t, tiny, got[n-1])
		})
	}
	// This goroutine's thread is back in the default mode.
	x := float32(1e-20)
	require.NotZero(t, x*float32(1e-20))
	requireDefaultFPMode(t)
}

func mustBuf(t *testing.T, be device.Backend, v []float32) device.Buffer {
	buf, err := be.Alloc(device.Float32, len(v))
	require.NoError(t, err)
	require.NoError(t, be.Upload(buf, v))
	return buf
}

// BenchmarkAdamSubnormalState times the fused Adam step over a layer
// whose momenta have decayed into the subnormal range (gradients of zero,
// as for always-black pixels), with and without flushing.
func BenchmarkAdamSubnormalState(b *testing.B) {
	cpu, err := device.Get(device.CPU())
	require.NoError(b, err)
	n := 200704 // the first layer of the course's MLP
	tiny := math.Float32frombits(1 << 20)
	fill := func(v float32) device.Buffer {
		s := make([]float32, n)
		for i := range s {
			s[i] = v
		}
		buf, err := cpu.Alloc(device.Float32, n)
		require.NoError(b, err)
		require.NoError(b, cpu.Upload(buf, s))
		return buf
	}
	l := device.Contiguous(n)
	h := device.OptimHyper{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, StepSize: 1e-3, BC2Sqrt: 1, Shrink: 1}
	for _, flush := range []bool{true, false} {
		b.Run(fmt.Sprintf("flush=%v", flush), func(b *testing.B) {
			prev := SetFlushSubnormals(flush)
			defer SetFlushSubnormals(prev)
			p, g := device.View{Buf: fill(0.1), Layout: l}, device.View{Buf: fill(0), Layout: l}
			var m, v device.View
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				m, v = device.View{Buf: fill(tiny), Layout: l}, device.View{Buf: fill(tiny), Layout: l}
				b.StartTimer()
				if err := cpu.OptimStep(device.AdamStep, p, g, [3]device.View{m, v}, h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
