package cuda

// Emulation of kernels/activation.cu in Go, run without a GPU on the
// arguments the host packs, compared with the CPU backend: dropout bit
// for bit (the mask must be the CPU's), the gradients bit for bit where
// the kernels use the CPU's operations, else within a few ulp.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/device/cpu"
)

// emuPhilox is philox.cuh's philox, with __umulhi spelled out.
func emuPhilox(seed, ctr uint64) [4]uint32 {
	const m0, m1, w0, w1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85
	c0, c1, c2, c3 := uint32(ctr), uint32(ctr>>32), uint32(0), uint32(0)
	k0, k1 := uint32(seed), uint32(seed>>32)
	umulhi := func(a, b uint32) uint32 { return uint32(uint64(a) * uint64(b) >> 32) }
	for r := 0; r < 10; r++ {
		if r > 0 {
			k0 += w0
			k1 += w1
		}
		hi0, lo0 := umulhi(m0, c0), m0*c0
		hi1, lo1 := umulhi(m1, c2), m1*c2
		c0, c1, c2, c3 = hi1^c1^k0, lo1, hi0^c3^k1, lo0
	}
	return [4]uint32{c0, c1, c2, c3}
}

// emuDropoutMask is dropout_mask.
func emuDropoutMask[T float32 | float64](seed, ctr, threshold uint64, scale T) T {
	w := emuPhilox(seed, ctr)
	if (uint64(w[0])<<32|uint64(w[1]))>>11 < threshold {
		return scale
	}
	return 0
}

// emuDropout runs dropout_map's two loops over d and s, whose first
// elements are at od and os; aligned says whether the kernel would take
// the vector path (its pointers' alignment).
func emuDropout[T float32 | float64](d, s []T, od, os int64, it *iterArgs, da *dropoutArgs, aligned bool) {
	var zero T
	size := int64(4)
	if any(zero) == any(float64(0)) {
		size = 8
	}
	vec := min(16/size, 4)
	scale := T(da.scale)
	start := int64(0)
	if it.Rank == 0 && aligned {
		nv := it.N / vec
		for v := range nv {
			ctr := da.offset + uint64(v*vec)
			for q := range vec {
				d[od+v*vec+q] = s[os+v*vec+q] * emuDropoutMask(da.seed, ctr+uint64(q), da.threshold, scale)
			}
		}
		start = nv * vec
	}
	for i := start; i < it.N; i++ {
		off := iterOffsets(it, i, 2)
		d[od+off[0]] = s[os+off[1]] * emuDropoutMask(da.seed, da.offset+uint64(i), da.threshold, scale)
	}
}

// writableLayout is randomLayout without broadcast dimensions, so that
// no two elements share a place: a destination.
func writableLayout(r *rand.Rand, shape []int) device.Layout {
	for {
		l := randomLayout(r, shape)
		ok := true
		for i, s := range l.Strides {
			if s == 0 && shape[i] > 1 {
				ok = false
			}
		}
		if ok {
			return l
		}
	}
}

// hostView returns a float64 view of layout l over a buffer of random
// values (a zero buffer with zero set).
func hostView(r *rand.Rand, l device.Layout, zero bool) device.View {
	buf := make([]float64, l.Offset+l.Span()+3)
	if !zero {
		for i := range buf {
			buf[i] = 3 * r.NormFloat64()
		}
	}
	b, _ := cpu.Wrap(buf)
	return device.View{Buf: b, Layout: l}
}

// asDType converts a float64 host view's whole buffer to dt, keeping the
// layout.
func asDType(t *testing.T, ref device.Backend, v device.View, dt device.DType) device.View {
	t.Helper()
	if dt == device.Float64 {
		return v
	}
	b, err := ref.Alloc(dt, v.Buf.Len())
	require.NoError(t, err)
	full := device.Contiguous(v.Buf.Len())
	require.NoError(t, ref.Copy(device.View{Buf: b, Layout: full}, device.View{Buf: v.Buf, Layout: full}))
	return device.View{Buf: b, Layout: v.Layout}
}

// cloneHost copies a CPU view's buffer, keeping the layout.
func cloneHost(v device.View) device.View {
	var b device.Buffer
	switch d := cpu.Data(v.Buf).(type) {
	case []float32:
		b, _ = cpu.Wrap(append([]float32(nil), d...))
	case []float64:
		b, _ = cpu.Wrap(append([]float64(nil), d...))
	}
	return device.View{Buf: b, Layout: v.Layout}
}

// hostFloats returns a CPU view's whole buffer as float64 values.
func hostFloats(v device.View) []float64 {
	switch d := cpu.Data(v.Buf).(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	case []float64:
		return d
	}
	return nil
}

func TestDropoutKernelEmulationMatchesCPU(t *testing.T) {
	ref, err := device.Get(device.CPU())
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(31, 32))
	for trial := range 300 {
		shape := randomShape(r, 4)
		if trial%10 == 0 {
			shape = []int{3 + r.IntN(40), 1 + r.IntN(70)}
		}
		dl, sl := writableLayout(r, shape), randomLayout(r, shape)
		if trial%3 == 0 {
			dl, sl = device.Contiguous(shape...), device.Contiguous(shape...)
		}
		dt := []device.DType{device.Float32, device.Float64}[trial%2]
		p := []float64{0.1, 0.5, 0.9, r.Float64()}[trial%4]
		seed, offset := r.Uint64(), r.Uint64()
		t.Run(fmt.Sprintf("%d/%v/%v", trial, dt, shape), func(t *testing.T) {
			src := asDType(t, ref, hostView(r, sl, false), dt)
			want := asDType(t, ref, hostView(r, dl, true), dt)
			emu := cloneHost(want)
			require.NoError(t, ref.Dropout(want, src, p, seed, offset))
			it, err := makeIter(shape, dl, sl)
			require.NoError(t, err)
			da := newDropoutArgs(p, seed, offset)
			var rec []argField
			packDropout(&argBuf{rec: &rec}, 0, 0, &it, &da)
			require.Len(t, rec, 7)
			aligned := trial%2 == 0
			switch d := cpu.Data(emu.Buf).(type) {
			case []float32:
				emuDropout(d, cpu.Data(src.Buf).([]float32), int64(dl.Offset), int64(sl.Offset), &it, &da, aligned)
			case []float64:
				emuDropout(d, cpu.Data(src.Buf).([]float64), int64(dl.Offset), int64(sl.Offset), &it, &da, aligned)
			}
			require.Equal(t, cpu.Data(want.Buf), cpu.Data(emu.Buf))
		})
	}
}

// emuGrad is grad_op in the dtype T; softplus and gelu use float64 math
// where the kernels call CUDA's single-precision functions, so those two
// are compared within a tolerance.
func emuGrad[T float32 | float64](op device.UnaryOp, g, a, p, q T) T {
	switch op {
	case device.Relu:
		if a > 0 {
			return g
		}
		return 0
	case device.LeakyRelu:
		if a > 0 {
			return g
		}
		return g * p
	case device.Threshold:
		if a > p {
			return g
		}
		return 0
	case device.Clamp:
		if a >= p && a <= q {
			return g
		}
		return 0
	case device.Softplus:
		if a > 20 {
			return g
		}
		return g * T(1/(1+math.Exp(-float64(a))))
	case device.Gelu:
		x := float64(a)
		return g * T(0.5*math.Erfc(-x/math.Sqrt2)+x*0.3989422804014327*math.Exp(-0.5*x*x))
	case device.Sigmoid:
		return g * (a * (1 - a))
	case device.Tanh:
		return g * ((1 - a) * (1 + a))
	}
	// Elu: a is the output.
	if a > 0 {
		return g
	}
	return g * (a + p)
}

// emuUnaryBackward runs map2's strided loop of <op>_backward over dx, g
// and a (first elements at the given offsets).
func emuUnaryBackward[T float32 | float64](op device.UnaryOp, dx, g, a []T, offs [3]int64, it *iterArgs, alpha, beta float64) {
	p, q := T(alpha), T(beta)
	for i := range it.N {
		off := iterOffsets(it, i, 3)
		dx[offs[0]+off[0]] = emuGrad(op, g[offs[1]+off[1]], a[offs[2]+off[2]], p, q)
	}
}

func TestUnaryBackwardKernelEmulationMatchesCPU(t *testing.T) {
	ref, err := device.Get(device.CPU())
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(33, 34))
	cases := []struct {
		op          device.UnaryOp
		alpha, beta float64
		exact       bool
	}{
		{device.Relu, 0, 0, true},
		{device.LeakyRelu, 0.01, 0, true},
		{device.Threshold, 0.5, -2, true},
		{device.Clamp, -1, 2, true},
		{device.Sigmoid, 0, 0, true},
		{device.Tanh, 0, 0, true},
		{device.Elu, 1.5, 0, true},
		{device.Softplus, 0, 0, false},
		{device.Gelu, 0, 0, false},
	}
	for trial := range 180 {
		c := cases[trial%len(cases)]
		dt := []device.DType{device.Float32, device.Float64}[trial%2]
		shape := randomShape(r, 4)
		dl, gl, al := writableLayout(r, shape), randomLayout(r, shape), randomLayout(r, shape)
		t.Run(fmt.Sprintf("%d/%v/%v/%v", trial, c.op, dt, shape), func(t *testing.T) {
			a := hostView(r, al, false)
			if c.op == device.Sigmoid || c.op == device.Tanh {
				// An output of these lies in (0, 1) or (-1, 1).
				for i, v := range cpu.Data(a.Buf).([]float64) {
					cpu.Data(a.Buf).([]float64)[i] = math.Tanh(v)
				}
			}
			av, gv := asDType(t, ref, a, dt), asDType(t, ref, hostView(r, gl, false), dt)
			want := asDType(t, ref, hostView(r, dl, true), dt)
			emu := cloneHost(want)
			x, y := av, device.View{}
			if c.op.BackwardOperand() == device.FromOutput {
				x, y = y, av
			}
			require.NoError(t, ref.UnaryBackward(c.op, want, gv, x, y, c.alpha, c.beta))
			it, err := makeIter(shape, dl, gl, al)
			require.NoError(t, err)
			var rec []argField
			packUnaryBackward(&argBuf{rec: &rec}, 0, 0, 0, &it, c.alpha, c.beta)
			require.Len(t, rec, 6)
			offs := [3]int64{int64(dl.Offset), int64(gl.Offset), int64(al.Offset)}
			switch d := cpu.Data(emu.Buf).(type) {
			case []float32:
				emuUnaryBackward(c.op, d, cpu.Data(gv.Buf).([]float32), cpu.Data(av.Buf).([]float32), offs, &it, c.alpha, c.beta)
			case []float64:
				emuUnaryBackward(c.op, d, cpu.Data(gv.Buf).([]float64), cpu.Data(av.Buf).([]float64), offs, &it, c.alpha, c.beta)
			}
			if c.exact {
				require.Equal(t, cpu.Data(want.Buf), cpu.Data(emu.Buf))
				return
			}
			got, exp := hostFloats(emu), hostFloats(want)
			for i := range exp {
				require.InDelta(t, exp[i], got[i], 1e-6*max(1, math.Abs(exp[i])), "element %d", i)
			}
		})
	}
}

func TestActivationKernelNames(t *testing.T) {
	require.Equal(t, "dropout_f32", dropoutKernel(device.Float32))
	require.Equal(t, "dropout_f64", dropoutKernel(device.Float64))
	require.Equal(t, "", dropoutKernel(device.Int64))
	require.Equal(t, "relu_backward_f32", unaryBackwardKernel(device.Relu, device.Float32))
	require.Equal(t, "leaky_relu_backward_f64", unaryBackwardKernel(device.LeakyRelu, device.Float64))
	require.Equal(t, "elu_backward_f32", unaryBackwardKernel(device.Elu, device.Float32))
	require.Equal(t, "", unaryBackwardKernel(device.Exp, device.Float32))
	require.Equal(t, "", unaryBackwardKernel(device.Relu, device.Int64))
}

func TestNewDropoutArgs(t *testing.T) {
	da := newDropoutArgs(0.25, 7, 9)
	require.Equal(t, dropoutArgs{seed: 7, offset: 9, threshold: 3 << 51, scale: 1 / 0.75}, da)
	require.Equal(t, uint64(1)<<53, newDropoutArgs(0, 1, 2).threshold)
	require.Zero(t, newDropoutArgs(1, 1, 2).threshold)
}
