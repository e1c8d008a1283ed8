package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/backend"
)

// biasOperand places row-major values in a fresh buffer of dtype dt under
// the layout stridedView makes for kind; "step2" (1-D only) stores every
// other element.
func biasOperand(t *testing.T, dt device.DType, vals []float64, shape []int, kind string) device.View {
	t.Helper()
	var v device.View
	if kind == "step2" {
		buf := make([]float64, 2*len(vals)+1)
		for i, x := range vals {
			buf[1+2*i] = x
		}
		b, _ := Wrap(buf)
		v = device.View{Buf: b, Layout: device.Layout{Shape: shape, Strides: []int{2}, Offset: 1}}
	} else {
		v, _ = stridedView(vals, shape, kind)
	}
	if dt == device.Float64 {
		return v
	}
	b, err := cpuBackend.Alloc(dt, v.Buf.Len())
	require.NoError(t, err)
	out := device.View{Buf: b, Layout: v.Layout}
	require.NoError(t, cpuBackend.Copy(out, v))
	return out
}

// bitsOf reads a float view in row-major order as raw bits, so that -0,
// NaN payloads and every rounding difference count.
func bitsOf(t *testing.T, v device.View) []uint64 {
	t.Helper()
	out := make([]uint64, 0, v.Numel())
	walkOffsets(v.Layout, func(off int) {
		switch d := Data(v.Buf).(type) {
		case []float32:
			out = append(out, uint64(math.Float32bits(d[off])))
		case []float64:
			out = append(out, math.Float64bits(d[off]))
		}
	})
	return out
}

// biasValues returns n values spread over the ranges where the
// activations change behaviour (the sigmoid and softplus cut-offs at ±20
// included), with NaN, ±Inf and -0 mixed in when special is set.
func biasValues(r *rand.Rand, n int, special bool) []float64 {
	out := make([]float64, n)
	specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, 20, -20}
	for i := range out {
		switch {
		case special && r.IntN(8) == 0:
			out[i] = specials[r.IntN(len(specials))]
		case r.IntN(4) == 0:
			out[i] = 30 * (2*r.Float64() - 1)
		default:
			out[i] = 3 * r.NormFloat64()
		}
	}
	return out
}

type biasCase struct {
	op    device.UnaryOp
	alpha float64
}

func (c biasCase) String() string { return fmt.Sprintf("%v(%v)", c.op, c.alpha) }

func biasCases() []biasCase {
	cases := []biasCase{{device.AddScalar, 0}, {device.AddScalar, 0.5}}
	for _, op := range backend.BiasActivationOps {
		alpha := 0.0
		switch op {
		case device.LeakyRelu:
			alpha = 0.01
		case device.Elu:
			alpha = 1.5
		}
		cases = append(cases, biasCase{op, alpha})
	}
	return cases
}

// TestBiasActivationMatchesUnfused checks the fused epilogue against
// Binary(Add) followed by Unary(op), bit for bit, for every op and both
// float dtypes, with strided operands, odd sizes and in place.
func TestBiasActivationMatchesUnfused(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	shapes := [][2]int{{1, 1}, {7, 33}, {33, 7}, {3, 1000}, {2, 4097}, {0, 5}}
	layouts := []struct{ dst, src, bias string }{
		{"contiguous", "contiguous", "contiguous"},
		{"contiguous", "permuted", "step2"},
		{"padded", "padded", "contiguous"},
		{"permuted", "contiguous", "step2"},
		{"in place", "padded", "step2"},
		{"in place", "contiguous", "contiguous"},
	}
	for _, dt := range []device.DType{device.Float32, device.Float64} {
		for _, c := range biasCases() {
			for _, sh := range shapes {
				for _, l := range layouts {
					name := fmt.Sprintf("%v/%v/%dx%d/%s-%s-%s", dt, c, sh[0], sh[1], l.dst, l.src, l.bias)
					m, n := sh[0], sh[1]
					xs, bs := biasValues(r, m*n, true), biasValues(r, n, true)
					src := biasOperand(t, dt, xs, []int{m, n}, l.src)
					bias := biasOperand(t, dt, bs, []int{n}, l.bias)

					sum, err := cpuBackend.Alloc(dt, m*n)
					require.NoError(t, err)
					tmp := device.View{Buf: sum, Layout: device.Contiguous(m, n)}
					require.NoError(t, cpuBackend.Binary(device.Add, tmp, src, biasRows(bias, m)))
					want := tmp
					if !backend.BiasOnly(c.op, c.alpha) {
						require.NoError(t, cpuBackend.Unary(c.op, tmp, tmp, c.alpha, 0))
					}

					dst := src
					if l.dst != "in place" {
						dst = biasOperand(t, dt, biasValues(r, m*n, false), []int{m, n}, l.dst)
					}
					require.NoError(t, cpuBackend.BiasActivation(c.op, dst, src, bias, c.alpha, 0), name)
					require.Equal(t, bitsOf(t, want), bitsOf(t, dst), name)
				}
			}
		}
	}
}

// TestBiasOnlyKeepsNegativeZero: with AddScalar and alpha 0 the epilogue
// is the bias alone, so -0 + -0 stays -0 as in Binary(Add).
func TestBiasOnlyKeepsNegativeZero(t *testing.T) {
	negZero := math.Copysign(0, -1)
	src, _ := Wrap([]float64{negZero, 1})
	bias, _ := Wrap([]float64{negZero})
	x := device.View{Buf: src, Layout: device.Contiguous(2, 1)}
	require.NoError(t, cpuBackend.BiasActivation(device.AddScalar, x, x, device.View{Buf: bias, Layout: device.Contiguous(1)}, 0, 0))
	got := Data(src).([]float64)
	require.True(t, math.Signbit(got[0]), "got %v, want -0", got[0])
	require.Equal(t, 1.0, got[1])
}

func TestBiasActivationErrors(t *testing.T) {
	f32 := func(shape ...int) device.View {
		b, _ := cpuBackend.Alloc(device.Float32, max(device.Numel(shape), 1))
		return device.View{Buf: b, Layout: device.Contiguous(shape...)}
	}
	f64, _ := cpuBackend.Alloc(device.Float64, 12)
	i64, _ := cpuBackend.Alloc(device.Int64, 12)
	cases := []struct {
		name           string
		op             device.UnaryOp
		dst, src, bias device.View
		msg            string
	}{
		{"op", device.Exp, f32(3, 4), f32(3, 4), f32(4), "exp is not a bias activation"},
		{"dtype", device.Relu, device.View{Buf: i64, Layout: device.Contiguous(3, 4)}, device.View{Buf: i64, Layout: device.Contiguous(3, 4)}, device.View{Buf: i64, Layout: device.Contiguous(4)}, "not implemented for int64"},
		{"mixed", device.Relu, f32(3, 4), device.View{Buf: f64, Layout: device.Contiguous(3, 4)}, f32(4), "dtypes destination float32, source float64"},
		{"rank", device.Relu, f32(12), f32(12), f32(12), "must be [M, N] views"},
		{"shape", device.Relu, f32(3, 4), f32(4, 3), f32(4), "must be [M, N] views of one shape"},
		{"bias", device.Relu, f32(3, 4), f32(3, 4), f32(3), "bias of shape [3] does not match the 4 columns"},
		{"missing", device.Relu, f32(3, 4), f32(3, 4), device.View{}, "the bias is missing"},
	}
	for _, c := range cases {
		err := cpuBackend.BiasActivation(c.op, c.dst, c.src, c.bias, 0, 0)
		require.ErrorContains(t, err, c.msg, c.name)
		require.ErrorContains(t, err, "device: cpu: bias activation", c.name)
	}
}
