package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

// TestMaxPool2x2MatchesGeneral checks the branch-free 2×2 path against the
// general loop, which the same data takes when its rows are strided, on
// values full of ties, signed zeros, infinities and NaNs, in both float
// types and over odd sizes whose last row and column no window covers.
// On AVX-512 machines the rows go through the vector kernel, in blocks of
// 16 windows and a masked last block.
func TestMaxPool2x2MatchesGeneral(t *testing.T) {
	for _, hw := range [][2]int{{7, 9}, {5, 75}, {4, 64}, {3, 32}, {6, 28}, {14, 14}, {2, 2}} {
		t.Run(fmt.Sprintf("float32/%dx%d", hw[0], hw[1]), func(t *testing.T) { checkMaxPool2x2[float32](t, hw[0], hw[1]) })
		t.Run(fmt.Sprintf("float64/%dx%d", hw[0], hw[1]), func(t *testing.T) { checkMaxPool2x2[float64](t, hw[0], hw[1]) })
	}
}

func checkMaxPool2x2[T float32 | float64](t *testing.T, h, w int) {
	be := newCPU()
	g := device.ConvGeometry{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}
	rng := rand.New(rand.NewPCG(1, 2))
	special := []float64{0, math.Copysign(0, -1), 1, 1, -1, math.Inf(1), math.Inf(-1), math.NaN()}
	n, c := 3, 4
	oh, ow := g.OutSize(h, w)
	dense := make([]T, n*c*h*w)
	strided := make([]T, 2*len(dense)) // every element followed by a gap
	for i := range dense {
		dense[i] = T(special[rng.IntN(len(special))])
		strided[2*i] = dense[i]
	}
	run := func(src []T, x device.Layout) ([]T, []int64) {
		xb, err := Wrap(src)
		require.NoError(t, err)
		y, err := be.Alloc(device.Float32, n*c*oh*ow)
		if _, ok := any(src).([]float64); ok {
			y, err = be.Alloc(device.Float64, n*c*oh*ow)
		}
		require.NoError(t, err)
		idx, err := be.Alloc(device.Int64, n*c*oh*ow)
		require.NoError(t, err)
		out := device.Contiguous(n, c, oh, ow)
		require.NoError(t, be.Pool2d(device.MaxPool, device.View{Buf: y, Layout: out}, device.View{Buf: idx, Layout: out}, device.View{Buf: xb, Layout: x}, g))
		return Data(y).([]T), Data(idx).([]int64)
	}
	fastY, fastI := run(dense, device.Contiguous(n, c, h, w))
	wideX := device.Layout{Shape: []int{n, c, h, w}, Strides: []int{2 * c * h * w, 2 * h * w, 2 * w, 2}}
	require.False(t, newPoolPlan(device.View{Layout: wideX}, device.View{Layout: device.Contiguous(n, c, oh, ow)}, device.View{}, g).isPair())
	slowY, slowI := run(strided, wideX)
	require.Equal(t, slowI, fastI)
	for i := range slowY {
		a, b := float64(slowY[i]), float64(fastY[i])
		if math.IsNaN(a) {
			require.True(t, math.IsNaN(b), "output %d", i)
			continue
		}
		require.Equal(t, math.Float64bits(a), math.Float64bits(b), "output %d: %v vs %v", i, a, b)
	}
}

// TestMaxPool2x2BackwardMatchesGeneral checks the vector backward pass of
// 2×2 max pooling (each window's four gradients written at once) against
// the general zero-and-scatter loop, which the same data takes through a
// strided gradient plane: with the indices MaxPool2d writes, with indices
// outside their windows (which the vector pass refuses, falling back), and
// with gradients of -0, infinities and NaN, over rows with and without a
// masked last block and odd sizes.
func TestMaxPool2x2BackwardMatchesGeneral(t *testing.T) {
	be := newCPU()
	g := device.ConvGeometry{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}
	rng := rand.New(rand.NewPCG(3, 4))
	special := []float32{0, float32(math.Copysign(0, -1)), 1, -2.5, float32(math.Inf(1)), float32(math.NaN()), 3e-39}
	for _, hw := range [][2]int{{28, 28}, {14, 14}, {7, 9}, {5, 75}, {4, 64}, {2, 2}} {
		for _, indices := range []string{"windows", "anywhere", "one stray"} {
			t.Run(fmt.Sprintf("%dx%d/%s", hw[0], hw[1], indices), func(t *testing.T) {
				n, c, h, w := 2, 3, hw[0], hw[1]
				oh, ow := g.OutSize(h, w)
				dy := make([]float32, n*c*oh*ow)
				idx := make([]int64, len(dy))
				for i := range dy {
					dy[i] = special[rng.IntN(len(special))]
					if rng.IntN(3) > 0 {
						dy[i] = rng.Float32()*4 - 2
					}
					q := i % (oh * ow)
					at := int64(2*(q/ow)*w + 2*(q%ow))
					switch {
					case indices == "anywhere":
						idx[i] = int64(rng.IntN(h * w))
					case indices == "one stray" && i == len(dy)/2:
						idx[i] = at + 2 // the next window's first position
					default:
						idx[i] = at + int64(rng.IntN(2)) + int64(rng.IntN(2)*w)
					}
				}
				dyb, _ := Wrap(dy)
				ib, _ := Wrap(idx)
				out := device.Contiguous(n, c, oh, ow)
				run := func(x device.Layout, size int) []float32 {
					buf := make([]float32, size)
					for i := range buf {
						buf[i] = 7 // garbage to overwrite
					}
					db, _ := Wrap(buf)
					require.NoError(t, be.Pool2dBackward(device.MaxPool, device.View{Buf: db, Layout: x}, device.View{Buf: dyb, Layout: out}, device.View{Buf: ib, Layout: out}, g))
					return buf
				}
				fast := run(device.Contiguous(n, c, h, w), n*c*h*w)
				wide := device.Layout{Shape: []int{n, c, h, w}, Strides: []int{2 * c * h * w, 2 * h * w, 2 * w, 2}}
				slowWide := run(wide, 2*n*c*h*w)
				for i := range fast {
					a, b := math.Float32bits(slowWide[2*i]), math.Float32bits(fast[i])
					require.Equal(t, a, b, "element %d: %v vs %v", i, slowWide[2*i], fast[i])
				}
			})
		}
	}
}

// BenchmarkMaxPool2x2 times the first pooling layer of the example CNN at
// batch 64 on random values, where the winner of each window is random.
func BenchmarkMaxPool2x2(b *testing.B) {
	be := newCPU()
	g := device.ConvGeometry{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}
	n, c, h, w := 64, 32, 28, 28
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n*c*h*w)
	for i := range x {
		x[i] = rng.Float32()
	}
	xb, err := Wrap(x)
	require.NoError(b, err)
	y, err := be.Alloc(device.Float32, n*c*h*w/4)
	require.NoError(b, err)
	idx, err := be.Alloc(device.Int64, n*c*h*w/4)
	require.NoError(b, err)
	out := device.Contiguous(n, c, h/2, w/2)
	for b.Loop() {
		require.NoError(b, be.Pool2d(device.MaxPool, device.View{Buf: y, Layout: out}, device.View{Buf: idx, Layout: out}, device.View{Buf: xb, Layout: device.Contiguous(n, c, h, w)}, g))
	}
}
