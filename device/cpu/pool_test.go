package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

// poolRef is the definition of Pool2d on a contiguous [N, C, H, W] input:
// the output, and for max pooling the index of the first maximum in
// row-major tap order (padding is -∞ for max, 0 for average).
func poolRef(op device.PoolOp, x []float64, n, c, h, w int, p device.ConvGeometry) ([]float64, []int64) {
	oh, ow := p.OutSize(h, w)
	dh, dw := p.Dilation()
	out := make([]float64, n*c*oh*ow)
	idx := make([]int64, len(out))
	for pl := range n * c {
		for y := range oh {
			for z := range ow {
				best, at, sum := math.Inf(-1), int64(-1), 0.0
				for i := range p.KernelH {
					for j := range p.KernelW {
						ih, iw := y*p.StrideH-p.PadH+i*dh, z*p.StrideW-p.PadW+j*dw
						if ih < 0 || ih >= h || iw < 0 || iw >= w {
							continue
						}
						v := x[(pl*h+ih)*w+iw]
						sum += v
						if at < 0 || v > best {
							best, at = v, int64(ih*w+iw)
						}
					}
				}
				k := (pl*oh+y)*ow + z
				if op == device.MaxPool {
					out[k], idx[k] = best, at
				} else {
					out[k] = sum / float64(p.KernelH*p.KernelW)
				}
			}
		}
	}
	return out, idx
}

// poolBackwardRef is the definition of Pool2dBackward.
func poolBackwardRef(op device.PoolOp, dy []float64, idx []int64, n, c, h, w int, p device.ConvGeometry) []float64 {
	oh, ow := p.OutSize(h, w)
	dh, dw := p.Dilation()
	dx := make([]float64, n*c*h*w)
	for pl := range n * c {
		for y := range oh {
			for z := range ow {
				k := (pl*oh+y)*ow + z
				if op == device.MaxPool {
					dx[pl*h*w+int(idx[k])] += dy[k]
					continue
				}
				for i := range p.KernelH {
					for j := range p.KernelW {
						ih, iw := y*p.StrideH-p.PadH+i*dh, z*p.StrideW-p.PadW+j*dw
						if ih >= 0 && ih < h && iw >= 0 && iw < w {
							dx[(pl*h+ih)*w+iw] += dy[k] / float64(p.KernelH*p.KernelW)
						}
					}
				}
			}
		}
	}
	return dx
}

// int64View allocates an Int64 view with the layout stridedView gives kind.
func int64View(be device.Backend, shape []int, kind string) device.View {
	v, _ := stridedView(make([]float64, device.Numel(shape)), shape, kind)
	b, _ := be.Alloc(device.Int64, v.Offset+v.Span()+2)
	data := Data(b).([]int64)
	for i := range data {
		data[i] = -777
	}
	return device.View{Buf: b, Layout: v.Layout}
}

func readInt64View(v device.View) []int64 {
	f := device.View{Layout: v.Layout}
	data := Data(v.Buf).([]int64)
	fd := make([]float64, len(data))
	for i, x := range data {
		fd[i] = float64(x)
	}
	f.Buf, _ = Wrap(fd)
	out := make([]int64, 0, v.Numel())
	for _, x := range readView(f) {
		out = append(out, int64(x))
	}
	return out
}

func TestPool2d(t *testing.T) {
	be := newCPU()
	rng := rand.New(rand.NewPCG(3, 4))
	geoms := []struct {
		n, c, h, w int
		p          device.ConvGeometry
	}{
		{1, 1, 4, 4, device.ConvGeometry{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}},
		{2, 3, 5, 6, device.ConvGeometry{KernelH: 3, KernelW: 2, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}},
		{2, 2, 7, 5, device.ConvGeometry{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}},
		{1, 2, 7, 7, device.ConvGeometry{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2}}, // overlapping windows, a leftover row
		{3, 1, 9, 8, device.ConvGeometry{KernelH: 3, KernelW: 2, StrideH: 3, StrideW: 1, PadH: 1, DilationH: 2, DilationW: 3}},
		{1, 1, 1, 1, device.ConvGeometry{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}},
		{2, 1, 5, 4, device.ConvGeometry{KernelH: 4, KernelW: 2, StrideH: 1, StrideW: 3, PadH: 2, PadW: 1}},
		// Enough planes that parallelFor splits them over goroutines.
		{4, 64, 8, 8, device.ConvGeometry{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}},
	}
	// "negative": every value below 0, so a window over the padding must
	// not pick up a 0 there; "ties": few distinct values, so windows
	// often hold several maxima and the first must win.
	for _, vals := range []string{"uniform", "negative", "ties"} {
		for gi, g := range geoms {
			for _, xKind := range []string{"contiguous", "permuted", "padded"} {
				for _, yKind := range []string{"contiguous", "padded"} {
					for _, op := range []device.PoolOp{device.MaxPool, device.AvgPool} {
						t.Run(fmt.Sprintf("%s/%d/%s/%s/%v", vals, gi, xKind, yKind, op), func(t *testing.T) {
							xShape := []int{g.n, g.c, g.h, g.w}
							oh, ow := g.p.OutSize(g.h, g.w)
							yShape := []int{g.n, g.c, oh, ow}
							x := make([]float64, device.Numel(xShape))
							for i := range x {
								switch vals {
								case "uniform":
									x[i] = rng.Float64()*2 - 1
								case "negative":
									x[i] = -1 - rng.Float64()
								case "ties":
									x[i] = float64(rng.IntN(3) - 1)
								}
							}
							wantY, wantIdx := poolRef(op, x, g.n, g.c, g.h, g.w, g.p)

							src, _ := stridedView(x, xShape, xKind)
							dst, _ := stridedView(make([]float64, device.Numel(yShape)), yShape, yKind)
							var idx device.View
							if op == device.MaxPool {
								idx = int64View(be, yShape, yKind)
							}
							require.NoError(t, be.Pool2d(op, dst, idx, src, g.p))
							require.InDeltaSlice(t, wantY, readView(dst), 1e-12)
							if op == device.MaxPool {
								require.Equal(t, wantY, readView(dst))
								require.Equal(t, wantIdx, readInt64View(idx))
							}

							dy := make([]float64, device.Numel(yShape))
							for i := range dy {
								dy[i] = rng.Float64()*2 - 1
							}
							dyv, _ := stridedView(dy, yShape, yKind)
							garbage := make([]float64, len(x))
							for i := range garbage {
								garbage[i] = 1e6 // must be overwritten
							}
							dxv, _ := stridedView(garbage, xShape, xKind)
							require.NoError(t, be.Pool2dBackward(op, dxv, dyv, idx, g.p))
							require.InDeltaSlice(t, poolBackwardRef(op, dy, wantIdx, g.n, g.c, g.h, g.w, g.p), readView(dxv), 1e-12)
						})
					}
				}
			}
		}
	}
}

func TestPool2dSpecialValues(t *testing.T) {
	be := newCPU()
	g := device.ConvGeometry{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}
	// A 2x2 plane padded to 4x4: each window sees one input and three
	// padding taps (-∞).
	ninf := float32(math.Inf(-1))
	x, _ := Wrap([]float32{ninf, ninf, float32(math.NaN()), 5})
	y, _ := be.Alloc(device.Float32, 4)
	idx, _ := be.Alloc(device.Int64, 4)
	require.NoError(t, be.Pool2d(device.MaxPool, device.View{Buf: y, Layout: device.Contiguous(1, 1, 2, 2)}, device.View{Buf: idx, Layout: device.Contiguous(1, 1, 2, 2)}, device.View{Buf: x, Layout: device.Contiguous(1, 1, 2, 2)}, g))
	got := Data(y).([]float32)
	require.True(t, math.IsInf(float64(got[0]), -1) && math.IsInf(float64(got[1]), -1))
	require.True(t, math.IsNaN(float64(got[2])))
	require.Equal(t, float32(5), got[3])
	// An all -∞ window points at its first in-bounds tap, never the padding.
	require.Equal(t, []int64{0, 1, 2, 3}, Data(idx))

	// NaN wins over everything, and the first NaN is kept.
	x2, _ := Wrap([]float64{1, math.NaN(), 7, math.NaN()})
	y2, _ := be.Alloc(device.Float64, 1)
	i2, _ := be.Alloc(device.Int64, 1)
	require.NoError(t, be.Pool2d(device.MaxPool, device.View{Buf: y2, Layout: device.Contiguous(1, 1, 1, 1)}, device.View{Buf: i2, Layout: device.Contiguous(1, 1, 1, 1)}, device.View{Buf: x2, Layout: device.Contiguous(1, 1, 2, 2)},
		device.ConvGeometry{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}))
	require.True(t, math.IsNaN(Data(y2).([]float64)[0]))
	require.Equal(t, []int64{1}, Data(i2))

	// Indices outside the plane are ignored by the backward pass.
	dy, _ := Wrap([]float64{1, 2})
	bi, _ := Wrap([]int64{-1, 4})
	dx, _ := be.Alloc(device.Float64, 4)
	require.NoError(t, be.Pool2dBackward(device.MaxPool, device.View{Buf: dx, Layout: device.Contiguous(1, 1, 2, 2)}, device.View{Buf: dy, Layout: device.Contiguous(1, 1, 1, 2)}, device.View{Buf: bi, Layout: device.Contiguous(1, 1, 1, 2)},
		device.ConvGeometry{KernelH: 2, KernelW: 1, StrideH: 1, StrideW: 1}))
	require.Equal(t, []float64{0, 0, 0, 0}, Data(dx))
}

func TestPool2dErrors(t *testing.T) {
	be := newCPU()
	g := device.ConvGeometry{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}
	x, _ := be.Alloc(device.Float32, 16)
	y, _ := be.Alloc(device.Float32, 4)
	y64, _ := be.Alloc(device.Float64, 4)
	idx, _ := be.Alloc(device.Int64, 4)
	xi, _ := be.Alloc(device.Int64, 16)
	img, out := device.Contiguous(1, 1, 4, 4), device.Contiguous(1, 1, 2, 2)
	bad := []struct {
		name string
		err  error
		msg  string
	}{
		{"no index", be.Pool2d(device.MaxPool, device.View{Buf: y, Layout: out}, device.View{}, device.View{Buf: x, Layout: img}, g), "int64 index"},
		{"index dtype", be.Pool2d(device.MaxPool, device.View{Buf: y, Layout: out}, device.View{Buf: y, Layout: out}, device.View{Buf: x, Layout: img}, g), "int64 index"},
		{"index shape", be.Pool2d(device.MaxPool, device.View{Buf: y, Layout: out}, device.View{Buf: idx, Layout: device.Contiguous(1, 1, 4, 1)}, device.View{Buf: x, Layout: img}, g), "index shape"},
		{"out shape", be.Pool2d(device.AvgPool, device.View{Buf: y, Layout: device.Contiguous(1, 1, 1, 4)}, device.View{}, device.View{Buf: x, Layout: img}, g), "should be [1 1 2 2]"},
		{"dtypes", be.Pool2d(device.AvgPool, device.View{Buf: y64, Layout: out}, device.View{}, device.View{Buf: x, Layout: img}, g), "differ"},
		{"int64", be.Pool2d(device.AvgPool, device.View{Buf: idx, Layout: out}, device.View{}, device.View{Buf: xi, Layout: img}, g), "not implemented for int64"},
		{"rank", be.Pool2d(device.AvgPool, device.View{Buf: y, Layout: device.Contiguous(1, 2, 2)}, device.View{}, device.View{Buf: x, Layout: img}, g), "4-D"},
		{"too big", be.Pool2d(device.AvgPool, device.View{Buf: y, Layout: out}, device.View{}, device.View{Buf: x, Layout: img}, device.ConvGeometry{KernelH: 5, KernelW: 5, StrideH: 1, StrideW: 1}), "does not fit"},
		{"op", be.Pool2d(device.PoolOp(9), device.View{Buf: y, Layout: out}, device.View{}, device.View{Buf: x, Layout: img}, g), "unknown pooling op"},
		{"backward", be.Pool2dBackward(device.MaxPool, device.View{Buf: x, Layout: img}, device.View{Buf: y, Layout: out}, device.View{}, g), "int64 index"},
	}
	for _, b := range bad {
		require.ErrorContains(t, b.err, b.msg, b.name)
	}
	require.Equal(t, "max_pool2d", device.MaxPool.String())
	require.Equal(t, "avg_pool2d", device.AvgPool.String())
}
