package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

// conv2dRef is the definition of Conv2d on contiguous operands, in
// float64: y [n, o, oh, ow] from x [n, c, h, w], w [o, c, kh, kw] and the
// bias b [o] (nil for none).
func conv2dRef(x, w, b []float64, n, c, h, wd, o int, p device.ConvGeometry) []float64 {
	oh, ow := p.OutSize(h, wd)
	dh, dw := p.Dilation()
	y := make([]float64, n*o*oh*ow)
	for bi := range n {
		for oc := range o {
			for yi := range oh {
				for xi := range ow {
					s := 0.0
					if b != nil {
						s = b[oc]
					}
					for ch := range c {
						for i := range p.KernelH {
							for j := range p.KernelW {
								ih, iw := yi*p.StrideH-p.PadH+i*dh, xi*p.StrideW-p.PadW+j*dw
								if ih >= 0 && ih < h && iw >= 0 && iw < wd {
									s += w[((oc*c+ch)*p.KernelH+i)*p.KernelW+j] * x[((bi*c+ch)*h+ih)*wd+iw]
								}
							}
						}
					}
					y[((bi*o+oc)*oh+yi)*ow+xi] = s
				}
			}
		}
	}
	return y
}

// conv2dBackwardRef returns the gradients of conv2dRef for the output
// gradient dy.
func conv2dBackwardRef(dy, x, w []float64, n, c, h, wd, o int, p device.ConvGeometry) (dx, dwt, db []float64) {
	oh, ow := p.OutSize(h, wd)
	dh, dw := p.Dilation()
	dx = make([]float64, n*c*h*wd)
	dwt = make([]float64, o*c*p.KernelH*p.KernelW)
	db = make([]float64, o)
	for bi := range n {
		for oc := range o {
			for yi := range oh {
				for xi := range ow {
					g := dy[((bi*o+oc)*oh+yi)*ow+xi]
					db[oc] += g
					for ch := range c {
						for i := range p.KernelH {
							for j := range p.KernelW {
								ih, iw := yi*p.StrideH-p.PadH+i*dh, xi*p.StrideW-p.PadW+j*dw
								if ih >= 0 && ih < h && iw >= 0 && iw < wd {
									wi := ((oc*c+ch)*p.KernelH+i)*p.KernelW + j
									xj := ((bi*c+ch)*h+ih)*wd + iw
									dx[xj] += g * w[wi]
									dwt[wi] += g * x[xj]
								}
							}
						}
					}
				}
			}
		}
	}
	return dx, dwt, db
}

// asDType converts a float64 view (from stridedView) to a view of the same
// layout in dt.
func asDType(v device.View, buf []float64, dt device.DType) device.View {
	if dt == device.Float64 {
		return v
	}
	f := make([]float32, len(buf))
	for i, x := range buf {
		f[i] = float32(x)
	}
	b, _ := Wrap(f)
	return device.View{Buf: b, Layout: v.Layout}
}

// readAny reads a float32 or float64 view in row-major order as float64.
func readAny(v device.View) []float64 {
	if f, ok := Data(v.Buf).([]float32); ok {
		w := make([]float64, len(f))
		for i, x := range f {
			w[i] = float64(x)
		}
		b, _ := Wrap(w)
		return readView(device.View{Buf: b, Layout: v.Layout})
	}
	return readView(v)
}

func randSlice(rng *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = rng.Float64()*2 - 1
	}
	return s
}

// requireClose compares within tol relative to the largest magnitude of
// want (at least 1).
func requireClose(t *testing.T, want, got []float64, tol float64, msg string) {
	t.Helper()
	require.Len(t, got, len(want), msg)
	scale := 1.0
	for _, v := range want {
		scale = max(scale, math.Abs(v))
	}
	for i := range want {
		require.InDelta(t, want[i], got[i], tol*scale, "%s: element %d", msg, i)
	}
}

var convCases = []struct {
	n, c, h, w, o int
	p             device.ConvGeometry
}{
	// The course's CNN blocks.
	{3, 1, 28, 28, 8, device.ConvGeometry{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}},
	{5, 6, 14, 14, 7, device.ConvGeometry{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}},
	// Odd sizes, no padding, a rectangular kernel.
	{2, 3, 7, 5, 4, device.ConvGeometry{KernelH: 3, KernelW: 2, StrideH: 1, StrideW: 1}},
	// Stride, padding wider than the kernel's reach, dilation.
	{2, 2, 9, 8, 3, device.ConvGeometry{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 3, PadH: 2, PadW: 1}},
	{3, 2, 9, 10, 5, device.ConvGeometry{KernelH: 3, KernelW: 2, StrideH: 1, StrideW: 2, PadH: 2, PadW: 0, DilationH: 2, DilationW: 3}},
	// 1×1 kernels: the image is its own column matrix; and with stride.
	{4, 5, 6, 7, 3, device.ConvGeometry{KernelH: 1, KernelW: 1, StrideH: 1, StrideW: 1}},
	{2, 3, 5, 5, 2, device.ConvGeometry{KernelH: 1, KernelW: 1, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}},
	// A one-pixel image in a padded window; a kernel as large as the image.
	{2, 2, 1, 1, 3, device.ConvGeometry{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}},
	{3, 2, 4, 4, 2, device.ConvGeometry{KernelH: 4, KernelW: 4, StrideH: 1, StrideW: 1}},
	// More images than groups, not a multiple of them, over threads.
	{37, 3, 6, 6, 17, device.ConvGeometry{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}},
}

func TestConv2dAgainstReference(t *testing.T) {
	be := newCPU()
	rng := rand.New(rand.NewPCG(3, 4))
	for ci, cc := range convCases {
		for _, dt := range []device.DType{device.Float64, device.Float32} {
			for _, kind := range []string{"contiguous", "permuted", "padded"} {
				t.Run(fmt.Sprintf("%d/%v/%s", ci, dt, kind), func(t *testing.T) {
					oh, ow := cc.p.OutSize(cc.h, cc.w)
					xs, ws, ys := []int{cc.n, cc.c, cc.h, cc.w}, []int{cc.o, cc.c, cc.p.KernelH, cc.p.KernelW}, []int{cc.n, cc.o, oh, ow}
					x, w, b, dy := randSlice(rng, device.Numel(xs)), randSlice(rng, device.Numel(ws)), randSlice(rng, cc.o), randSlice(rng, device.Numel(ys))
					tol := 1e-12
					if dt == device.Float32 {
						tol = 1e-5 * math.Sqrt(float64(cc.c*cc.p.KernelH*cc.p.KernelW*cc.n))
					}
					view := func(vals []float64, shape []int) device.View {
						k := kind
						if len(shape) == 1 && k == "permuted" {
							k = "padded" // a vector has no dimensions to swap
						}
						v, buf := stridedView(vals, shape, k)
						return asDType(v, buf, dt)
					}
					garbage := func(shape []int) device.View {
						g := make([]float64, device.Numel(shape))
						for i := range g {
							g[i] = math.NaN() // every element must be overwritten
						}
						return view(g, shape)
					}
					xv, wv, bv, dyv := view(x, xs), view(w, ws), view(b, []int{cc.o}), view(dy, ys)

					for _, withBias := range []bool{true, false} {
						yv := garbage(ys)
						bb, ref := bv, b
						if !withBias {
							bb, ref = device.View{}, nil
						}
						require.NoError(t, be.Conv2d(yv, xv, wv, bb, cc.p))
						requireClose(t, conv2dRef(x, w, ref, cc.n, cc.c, cc.h, cc.w, cc.o, cc.p), readAny(yv), tol, "y")
					}

					wantDX, wantDW, wantDB := conv2dBackwardRef(dy, x, w, cc.n, cc.c, cc.h, cc.w, cc.o, cc.p)
					for _, want := range []string{"xwb", "x", "w", "b", "wb"} {
						var dxv, dwv, dbv device.View
						has := func(r rune) bool {
							for _, c := range want {
								if c == r {
									return true
								}
							}
							return false
						}
						if has('x') {
							dxv = garbage(xs)
						}
						if has('w') {
							dwv = garbage(ws)
						}
						if has('b') {
							dbv = garbage([]int{cc.o})
						}
						require.NoError(t, be.Conv2dBackward(dxv, dwv, dbv, dyv, xv, wv, cc.p), want)
						if has('x') {
							requireClose(t, wantDX, readAny(dxv), tol, "dx")
						}
						if has('w') {
							requireClose(t, wantDW, readAny(dwv), tol, "dw")
						}
						if has('b') {
							requireClose(t, wantDB, readAny(dbv), tol, "db")
						}
					}
				})
			}
		}
	}
}

// TestConv2dBackwardRepeatsBitForBit: the weight and bias gradients sum
// over the batch in an order fixed by the shapes, so any number of
// threads gives the same bits.
func TestConv2dBackwardRepeatsBitForBit(t *testing.T) {
	be := newCPU()
	rng := rand.New(rand.NewPCG(5, 6))
	p := device.ConvGeometry{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}
	n, c, h, o := 45, 4, 9, 6
	wrap := func(s []float64) device.View {
		f := make([]float32, len(s))
		for i, v := range s {
			f[i] = float32(v)
		}
		b, _ := Wrap(f)
		return device.View{Buf: b}
	}
	x := wrap(randSlice(rng, n*c*h*h))
	x.Layout = device.Contiguous(n, c, h, h)
	w := wrap(randSlice(rng, o*c*9))
	w.Layout = device.Contiguous(o, c, 3, 3)
	dy := wrap(randSlice(rng, n*o*h*h))
	dy.Layout = device.Contiguous(n, o, h, h)
	run := func(procs int) ([]float32, []float32, []float32) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		dx, _ := be.Alloc(device.Float32, n*c*h*h)
		dw, _ := be.Alloc(device.Float32, o*c*9)
		db, _ := be.Alloc(device.Float32, o)
		require.NoError(t, be.Conv2dBackward(device.View{Buf: dx, Layout: device.Contiguous(n, c, h, h)}, device.View{Buf: dw, Layout: device.Contiguous(o, c, 3, 3)}, device.View{Buf: db, Layout: device.Contiguous(o)}, dy, x, w, p))
		return Data(dx).([]float32), Data(dw).([]float32), Data(db).([]float32)
	}
	dx1, dw1, db1 := run(1)
	for _, procs := range []int{2, 3, 8} {
		dx, dw, db := run(procs)
		require.Equal(t, dx1, dx, "dx with %d threads", procs)
		require.Equal(t, dw1, dw, "dw with %d threads", procs)
		require.Equal(t, db1, db, "db with %d threads", procs)
	}
}

func TestConv2dErrors(t *testing.T) {
	be := newCPU()
	p := device.ConvGeometry{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}
	f := func(shape ...int) device.View {
		b, _ := be.Alloc(device.Float32, device.Numel(shape))
		return device.View{Buf: b, Layout: device.Contiguous(shape...)}
	}
	d := func(shape ...int) device.View {
		b, _ := be.Alloc(device.Float64, device.Numel(shape))
		return device.View{Buf: b, Layout: device.Contiguous(shape...)}
	}
	x, w, y, b := f(2, 3, 5, 5), f(4, 3, 3, 3), f(2, 4, 5, 5), f(4)
	require.NoError(t, be.Conv2d(y, x, w, b, p))
	cases := []struct {
		name string
		err  error
		msg  string
	}{
		{"output shape", be.Conv2d(f(2, 4, 4, 5), x, w, b, p), "does not match input"},
		{"channels", be.Conv2d(y, x, f(4, 2, 3, 3), b, p), "channels"},
		{"kernel", be.Conv2d(y, x, f(4, 3, 2, 3), b, p), "weight [4, C, 3, 3]"},
		{"bias", be.Conv2d(y, x, w, f(3), p), "bias [4]"},
		{"batch", be.Conv2d(y, f(3, 3, 5, 5), w, b, p), "input [2, C, H, W]"},
		{"dtype", be.Conv2d(y, x, d(4, 3, 3, 3), b, p), "dtypes"},
		{"geometry", be.Conv2d(y, x, w, b, device.ConvGeometry{KernelH: 3, KernelW: 3}), "stride"},
		{"no input", be.Conv2d(y, device.View{}, w, b, p), "required"},
		{"dw without x", be.Conv2dBackward(device.View{}, f(4, 3, 3, 3), device.View{}, y, device.View{}, w, p), "needs the input"},
		{"dx without w", be.Conv2dBackward(f(2, 3, 5, 5), device.View{}, device.View{}, y, x, device.View{}, p), "needs the weight"},
		{"dx shape", be.Conv2dBackward(f(2, 3, 5, 4), device.View{}, device.View{}, y, x, w, p), "input shapes"},
	}
	for _, c := range cases {
		require.ErrorContains(t, c.err, c.msg, c.name)
	}
	var _ device.Convolver = be // the CPU backend convolves directly
}
