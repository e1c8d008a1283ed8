package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

// im2colRef is the definition of Im2Col on a contiguous [N, C, H, W] image.
func im2colRef(x []float64, n, c, h, w int, p device.ConvGeometry) []float64 {
	oh, ow := p.OutSize(h, w)
	dh, dw := p.Dilation()
	k := c * p.KernelH * p.KernelW
	out := make([]float64, n*k*oh*ow)
	for b := range n {
		for ch := range c {
			for i := range p.KernelH {
				for j := range p.KernelW {
					r := (ch*p.KernelH+i)*p.KernelW + j
					for y := range oh {
						for z := range ow {
							ih, iw := y*p.StrideH-p.PadH+i*dh, z*p.StrideW-p.PadW+j*dw
							v := 0.0
							if ih >= 0 && ih < h && iw >= 0 && iw < w {
								v = x[((b*c+ch)*h+ih)*w+iw]
							}
							out[(b*k+r)*oh*ow+y*ow+z] = v
						}
					}
				}
			}
		}
	}
	return out
}

// col2imRef is the adjoint of im2colRef.
func col2imRef(col []float64, n, c, h, w int, p device.ConvGeometry) []float64 {
	oh, ow := p.OutSize(h, w)
	dh, dw := p.Dilation()
	k := c * p.KernelH * p.KernelW
	out := make([]float64, n*c*h*w)
	for b := range n {
		for ch := range c {
			for i := range p.KernelH {
				for j := range p.KernelW {
					r := (ch*p.KernelH+i)*p.KernelW + j
					for y := range oh {
						for z := range ow {
							ih, iw := y*p.StrideH-p.PadH+i*dh, z*p.StrideW-p.PadW+j*dw
							if ih >= 0 && ih < h && iw >= 0 && iw < w {
								out[((b*c+ch)*h+ih)*w+iw] += col[(b*k+r)*oh*ow+y*ow+z]
							}
						}
					}
				}
			}
		}
	}
	return out
}

// stridedView places logical row-major values into a fresh buffer under a
// layout chosen by kind: "contiguous", "permuted" (the last two dimensions
// stored transposed) or "padded" (an offset and a gap after every
// innermost row). It returns the view and the buffer.
func stridedView(vals []float64, shape []int, kind string) (device.View, []float64) {
	r := len(shape)
	var l device.Layout
	switch kind {
	case "contiguous":
		l = device.Contiguous(shape...)
	case "permuted":
		st := append([]int(nil), shape...)
		st[r-1], st[r-2] = st[r-2], st[r-1]
		cs := device.ContiguousStrides(st)
		cs[r-1], cs[r-2] = cs[r-2], cs[r-1]
		l = device.Layout{Shape: shape, Strides: cs}
	case "padded":
		st := append([]int(nil), shape...)
		st[r-1] += 3
		l = device.Layout{Shape: shape, Strides: device.ContiguousStrides(st)}
		for i := range l.Strides {
			l.Strides[i] *= 1
		}
		l.Offset = 5
	}
	buf := make([]float64, l.Offset+l.Span()+2)
	for i := range buf {
		buf[i] = -777 // garbage that must never be read as data
	}
	idx := make([]int, r)
	for k := range vals {
		off := l.Offset
		for d := range r {
			off += idx[d] * l.Strides[d]
		}
		buf[off] = vals[k]
		for d := r - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	b, _ := Wrap(buf)
	return device.View{Buf: b, Layout: l}, buf
}

// readView reads a view back in row-major order.
func readView(v device.View) []float64 {
	data := Data(v.Buf).([]float64)
	out := make([]float64, 0, v.Numel())
	idx := make([]int, v.Rank())
	for range v.Numel() {
		off := v.Offset
		for d := range idx {
			off += idx[d] * v.Strides[d]
		}
		out = append(out, data[off])
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < v.Shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out
}

func TestIm2ColCol2Im(t *testing.T) {
	be := newCPU()
	rng := rand.New(rand.NewPCG(1, 2))
	geoms := []struct {
		n, c, h, w int
		p          device.ConvGeometry
	}{
		{1, 1, 4, 4, device.ConvGeometry{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1}},
		{2, 3, 5, 6, device.ConvGeometry{KernelH: 3, KernelW: 2, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}},
		{2, 2, 7, 5, device.ConvGeometry{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 2}},
		{1, 2, 6, 6, device.ConvGeometry{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}},
		{3, 1, 9, 8, device.ConvGeometry{KernelH: 3, KernelW: 2, StrideH: 3, StrideW: 1, PadH: 2, PadW: 0, DilationH: 2, DilationW: 3}},
		{1, 1, 1, 1, device.ConvGeometry{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}},
		{2, 1, 3, 3, device.ConvGeometry{KernelH: 1, KernelW: 1, StrideH: 2, StrideW: 2, PadH: 3, PadW: 3}},
		// Enough planes that parallelFor splits them over goroutines.
		{4, 64, 8, 8, device.ConvGeometry{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}},
	}
	for gi, g := range geoms {
		for _, imgKind := range []string{"contiguous", "permuted", "padded"} {
			for _, colKind := range []string{"contiguous", "permuted", "padded"} {
				t.Run(fmt.Sprintf("%d/%s/%s", gi, imgKind, colKind), func(t *testing.T) {
					imgShape := []int{g.n, g.c, g.h, g.w}
					colShape := g.p.ColumnShape(g.n, g.c, g.h, g.w)
					x := make([]float64, device.Numel(imgShape))
					for i := range x {
						x[i] = rng.Float64()*2 - 1
					}
					y := make([]float64, device.Numel(colShape))
					for i := range y {
						y[i] = rng.Float64()*2 - 1
					}

					src, _ := stridedView(x, imgShape, imgKind)
					dst, _ := stridedView(make([]float64, len(y)), colShape, colKind)
					require.NoError(t, be.Im2Col(dst, src, g.p))
					require.Equal(t, im2colRef(x, g.n, g.c, g.h, g.w, g.p), readView(dst))

					csrc, _ := stridedView(y, colShape, colKind)
					// dst starts as garbage: Col2Im must overwrite it.
					garbage := make([]float64, len(x))
					for i := range garbage {
						garbage[i] = 1e6
					}
					idst, _ := stridedView(garbage, imgShape, imgKind)
					require.NoError(t, be.Col2Im(idst, csrc, g.p))
					require.InDeltaSlice(t, col2imRef(y, g.n, g.c, g.h, g.w, g.p), readView(idst), 1e-12)
				})
			}
		}
	}
}

func TestIm2ColDTypesAndErrors(t *testing.T) {
	be := newCPU()
	p := device.ConvGeometry{KernelH: 2, KernelW: 2, StrideH: 1, StrideW: 1}
	// float32 and int64 run the same kernels.
	x32, _ := Wrap([]float32{1, 2, 3, 4, 5, 6, 7, 8, 9})
	c32, _ := be.Alloc(device.Float32, 16)
	require.NoError(t, be.Im2Col(device.View{Buf: c32, Layout: device.Contiguous(1, 4, 4)}, device.View{Buf: x32, Layout: device.Contiguous(1, 1, 3, 3)}, p))
	require.Equal(t, []float32{1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9}, Data(c32))
	i32, _ := be.Alloc(device.Float32, 9)
	require.NoError(t, be.Col2Im(device.View{Buf: i32, Layout: device.Contiguous(1, 1, 3, 3)}, device.View{Buf: c32, Layout: device.Contiguous(1, 4, 4)}, p))
	require.Equal(t, []float32{1, 4, 3, 8, 20, 12, 7, 16, 9}, Data(i32))

	xi, _ := Wrap([]int64{1, 2, 3, 4})
	ci, _ := be.Alloc(device.Int64, 4)
	require.NoError(t, be.Im2Col(device.View{Buf: ci, Layout: device.Contiguous(1, 4, 1)}, device.View{Buf: xi, Layout: device.Contiguous(1, 1, 2, 2)}, p))
	require.Equal(t, []int64{1, 2, 3, 4}, Data(ci))

	xb, _ := Wrap([]bool{true, false, true, false})
	cb, _ := be.Alloc(device.Bool, 4)
	require.ErrorContains(t, be.Im2Col(device.View{Buf: cb, Layout: device.Contiguous(1, 4, 1)}, device.View{Buf: xb, Layout: device.Contiguous(1, 1, 2, 2)}, p), "not implemented for bool")

	bad := []struct {
		name     string
		img, col device.Layout
		p        device.ConvGeometry
		msg      string
	}{
		{"rank", device.Contiguous(1, 3, 3), device.Contiguous(1, 4, 4), p, "4-D image"},
		{"shape", device.Contiguous(1, 1, 3, 3), device.Contiguous(1, 4, 5), p, "should be [1 4 4]"},
		{"too big", device.Contiguous(1, 1, 3, 3), device.Contiguous(1, 16, 1), device.ConvGeometry{KernelH: 4, KernelW: 4, StrideH: 1, StrideW: 1}, "does not fit"},
		{"stride", device.Contiguous(1, 1, 3, 3), device.Contiguous(1, 4, 4), device.ConvGeometry{KernelH: 2, KernelW: 2}, "stride"},
		{"padding", device.Contiguous(1, 1, 3, 3), device.Contiguous(1, 4, 4), device.ConvGeometry{KernelH: 2, KernelW: 2, StrideH: 1, StrideW: 1, PadH: -1}, "padding"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			require.ErrorContains(t, be.Im2Col(device.View{Buf: c32, Layout: b.col}, device.View{Buf: x32, Layout: b.img}, b.p), b.msg)
		})
	}
	// A view that overruns its buffer is refused, not read out of bounds.
	small, _ := be.Alloc(device.Float32, 3)
	require.ErrorContains(t, be.Im2Col(device.View{Buf: c32, Layout: device.Contiguous(1, 4, 4)}, device.View{Buf: small, Layout: device.Contiguous(1, 1, 3, 3)}, p), "overruns")
}

func BenchmarkIm2Col(b *testing.B) {
	be := newCPU()
	p := device.ConvGeometry{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}
	x, _ := be.Alloc(device.Float32, 64*16*28*28)
	col, _ := be.Alloc(device.Float32, 64*16*9*28*28)
	src, dst := device.View{Buf: x, Layout: device.Contiguous(64, 16, 28, 28)}, device.View{Buf: col, Layout: device.Contiguous(p.ColumnShape(64, 16, 28, 28)...)}
	b.SetBytes(int64(4 * col.Len()))
	for b.Loop() {
		if err := be.Im2Col(dst, src, p); err != nil {
			b.Fatal(err)
		}
	}
}
