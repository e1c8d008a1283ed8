package cuda

// Emulation of kernels/bias.cu's indexing in Go, run without a GPU, on the
// biasArgs the host plans, compared with the CPU backend bit for bit.

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/device/cpu"
)

// biasLayout is an operand's layout in a buffer: contiguous rows,
// transposed, padded rows, or (for the bias) every other element, each at
// an element offset.
func biasLayout(kind string, m, n, offset int) device.Layout {
	var l device.Layout
	switch kind {
	case "rows":
		l = device.Contiguous(m, n)
	case "transposed":
		l = device.Layout{Shape: []int{m, n}, Strides: []int{1, m}}
	case "padded":
		l = device.Layout{Shape: []int{m, n}, Strides: []int{n + 3, 1}}
	case "vector":
		l = device.Contiguous(n)
	case "step2":
		l = device.Layout{Shape: []int{n}, Strides: []int{2}}
	}
	l.Offset = offset
	return l
}

func TestBiasPlanEmulationMatchesCPU(t *testing.T) {
	ref, err := device.Get(device.CPU())
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(13, 14))
	cases := []struct {
		m, n                int
		dst, src, bias      string
		dOff, sOff, bOff    int
		inPlace, f32, isVec bool
	}{
		{m: 5, n: 8, dst: "rows", src: "rows", bias: "vector", f32: true, isVec: true},
		{m: 5, n: 8, dst: "rows", src: "rows", bias: "vector", isVec: true},
		{m: 5, n: 8, dst: "rows", src: "rows", bias: "vector", inPlace: true, f32: true, isVec: true},
		{m: 1, n: 12, dst: "rows", src: "rows", bias: "vector", dOff: 4, sOff: 8, f32: true, isVec: true},
		{m: 64, n: 128, dst: "rows", src: "rows", bias: "vector", dOff: 2, sOff: 6, bOff: 4, isVec: true},
		{m: 5, n: 7, dst: "rows", src: "rows", bias: "vector", f32: true},
		{m: 5, n: 8, dst: "rows", src: "rows", bias: "vector", dOff: 1, f32: true},
		{m: 5, n: 8, dst: "rows", src: "rows", bias: "vector", bOff: 2, f32: true},
		{m: 5, n: 8, dst: "rows", src: "transposed", bias: "vector", f32: true},
		{m: 7, n: 33, dst: "padded", src: "rows", bias: "step2"},
		{m: 7, n: 33, dst: "transposed", src: "padded", bias: "step2", dOff: 3, sOff: 1, bOff: 1, f32: true},
		{m: 7, n: 8, dst: "padded", src: "padded", bias: "vector", inPlace: true, f32: true},
		{m: 9, n: 1, dst: "rows", src: "transposed", bias: "vector"},
		{m: 1, n: 1, dst: "rows", src: "rows", bias: "step2", f32: true},
	}
	for ci, c := range cases {
		t.Run(fmt.Sprintf("#%d/%dx%d/%s-%s-%s", ci, c.m, c.n, c.dst, c.src, c.bias), func(t *testing.T) {
			// The emulation computes in float64 whatever the dtype: only
			// the element size (alignment, vector width) depends on it.
			esize := 8
			if c.f32 {
				esize = 4
			}
			dl := biasLayout(c.dst, c.m, c.n, c.dOff)
			sl := biasLayout(c.src, c.m, c.n, c.sOff)
			bl := biasLayout(c.bias, c.m, c.n, c.bOff)
			if c.inPlace {
				sl = dl
			}
			fill := func(l device.Layout) []float64 {
				v := make([]float64, l.Offset+l.Span()+3)
				for i := range v {
					v[i] = r.NormFloat64()
				}
				return v
			}
			dbuf, sbuf, bbuf := fill(dl), fill(sl), fill(bl)
			if c.inPlace {
				sbuf = dbuf
			}
			// Device addresses: 256-byte aligned bases, as the caching
			// allocator returns, plus the element offsets.
			addr := func(base uintptr, off int) uintptr { return base + uintptr(off*esize) }
			a, items := newBiasArgs(dl, sl, bl, addr(1<<20, dl.Offset), addr(2<<20, sl.Offset), addr(3<<20, bl.Offset), esize)
			require.Equal(t, c.isVec, a.Vec != 0)

			// Emulate the bias-only kernel on float64 copies: on the
			// vector path the kernel's pointers are the operands' first
			// elements, on the strided path too.
			emu := append([]float64(nil), dbuf...)
			src := sbuf
			if c.inPlace {
				src = append([]float64(nil), dbuf...)
			}
			written := map[int64]int{}
			for i := range items {
				d, s, b := biasOffsets(&a, i, esize)
				for k := range d {
					emu[int64(dl.Offset)+d[k]] = src[int64(sl.Offset)+s[k]] + bbuf[int64(bl.Offset)+b[k]]
					written[d[k]]++
				}
			}
			require.Len(t, written, c.m*c.n, "every destination element is written")
			for off, k := range written {
				require.Equal(t, 1, k, "element at offset %d written %d times", off, k)
			}

			wrap := func(v []float64) device.Buffer {
				b, err := cpu.Wrap(v)
				require.NoError(t, err)
				return b
			}
			want := append([]float64(nil), dbuf...)
			wb := wrap(want)
			sv := device.View{Buf: wrap(sbuf), Layout: sl}
			if c.inPlace {
				sv.Buf = wb
			}
			require.NoError(t, ref.BiasActivation(device.AddScalar, device.View{Buf: wb, Layout: dl}, sv, device.View{Buf: wrap(bbuf), Layout: bl}, 0, 0))
			require.Equal(t, want, emu)
		})
	}
}

func TestBiasPlanEmpty(t *testing.T) {
	l := device.Contiguous(0, 8)
	_, items := newBiasArgs(l, l, device.Contiguous(8), 0, 0, 0, 4)
	require.Zero(t, items)
}
