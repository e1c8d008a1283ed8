package device

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
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
	g := ConvGeometry{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}
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
	run := func(src []T, x Layout) ([]T, []int64) {
		xb, err := WrapHost(src)
		require.NoError(t, err)
		y, err := be.Alloc(Float32, n*c*oh*ow)
		if _, ok := any(src).([]float64); ok {
			y, err = be.Alloc(Float64, n*c*oh*ow)
		}
		require.NoError(t, err)
		idx, err := be.Alloc(Int64, n*c*oh*ow)
		require.NoError(t, err)
		out := Contiguous(n, c, oh, ow)
		require.NoError(t, be.Pool2d(MaxPool, View{y, out}, View{idx, out}, View{xb, x}, g))
		return HostData(y).([]T), HostData(idx).([]int64)
	}
	fastY, fastI := run(dense, Contiguous(n, c, h, w))
	wideX := Layout{Shape: []int{n, c, h, w}, Strides: []int{2 * c * h * w, 2 * h * w, 2 * w, 2}}
	require.False(t, newPoolPlan(View{Layout: wideX}, View{Layout: Contiguous(n, c, oh, ow)}, View{}, g).isPair())
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

// BenchmarkMaxPool2x2 times the first pooling layer of the example CNN at
// batch 64 on random values, where the winner of each window is random.
func BenchmarkMaxPool2x2(b *testing.B) {
	be := newCPU()
	g := ConvGeometry{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}
	n, c, h, w := 64, 32, 28, 28
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n*c*h*w)
	for i := range x {
		x[i] = rng.Float32()
	}
	xb, err := WrapHost(x)
	require.NoError(b, err)
	y, err := be.Alloc(Float32, n*c*h*w/4)
	require.NoError(b, err)
	idx, err := be.Alloc(Int64, n*c*h*w/4)
	require.NoError(b, err)
	out := Contiguous(n, c, h/2, w/2)
	for b.Loop() {
		require.NoError(b, be.Pool2d(MaxPool, View{y, out}, View{idx, out}, View{xb, Contiguous(n, c, h, w)}, g))
	}
}
