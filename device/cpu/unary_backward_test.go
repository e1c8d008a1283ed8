package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

// gradCase is one activation with its parameters and its derivative
// written out independently of the kernels, in float64.
type gradCase struct {
	op          device.UnaryOp
	alpha, beta float64
	deriv       func(x float64) float64
	// fromY, for the ops that read their output, is the derivative as a
	// function of y: the reference for a rounded y, whose rounding error
	// 1-y magnifies near y = 1 on any backend.
	fromY func(y float64) float64
	kinks []float64 // points where f' jumps: finite differences skip them
}

func (c gradCase) String() string { return fmt.Sprintf("%v(%v,%v)", c.op, c.alpha, c.beta) }

func gradCases() []gradCase {
	step := func(at, below, above float64) func(float64) float64 {
		return func(x float64) float64 {
			if x > at {
				return above
			}
			return below
		}
	}
	normPDF := func(x float64) float64 { return math.Exp(-x*x/2) / math.Sqrt(2*math.Pi) }
	return []gradCase{
		{op: device.Relu, deriv: step(0, 0, 1), kinks: []float64{0}},
		{op: device.LeakyRelu, alpha: 0.01, deriv: step(0, 0.01, 1), kinks: []float64{0}},
		{op: device.LeakyRelu, alpha: 0.2, deriv: step(0, 0.2, 1), kinks: []float64{0}},
		{op: device.Threshold, alpha: 0.5, beta: -2, deriv: step(0.5, 0, 1), kinks: []float64{0.5}},
		{op: device.Clamp, alpha: -1, beta: 2, deriv: func(x float64) float64 {
			if x >= -1 && x <= 2 {
				return 1
			}
			return 0
		}, kinks: []float64{-1, 2}},
		{op: device.Elu, alpha: 1.5, deriv: func(x float64) float64 {
			if x > 0 {
				return 1
			}
			return 1.5 * math.Exp(x)
		}, fromY: func(y float64) float64 {
			if y > 0 {
				return 1
			}
			return y + 1.5
		}, kinks: []float64{0}},
		{op: device.Elu, alpha: 0, deriv: step(0, 0, 1), kinks: []float64{0}},
		{op: device.Softplus, deriv: func(x float64) float64 {
			if x > 20 {
				return 1
			}
			return 1 / (1 + math.Exp(-x))
		}, kinks: []float64{20}},
		{op: device.Gelu, deriv: func(x float64) float64 {
			return 0.5*(1+math.Erf(x/math.Sqrt2)) + x*normPDF(x)
		}},
		{op: device.Sigmoid, deriv: func(x float64) float64 {
			s := 1 / (1 + math.Exp(-x))
			return s * (1 - s)
		}, fromY: func(y float64) float64 { return y * (1 - y) }},
		{op: device.Tanh, deriv: func(x float64) float64 {
			t := math.Tanh(x)
			return 1 - t*t
		}, fromY: func(y float64) float64 { return (1 - y) * (1 + y) }},
	}
}

// gradOperands returns x, y = op(x) (computed by the forward kernel) and
// g as views of dtype dt in layout kind.
func gradOperands(t *testing.T, c gradCase, dt device.DType, xs, gs []float64, shape []int, kind string) (x, y, g device.View) {
	t.Helper()
	x = actView(t, dt, xs, shape, kind)
	g = actView(t, dt, gs, shape, kind)
	y = actView(t, dt, make([]float64, len(xs)), shape, "contiguous")
	require.NoError(t, cpuBackend.Unary(c.op, y, x, c.alpha, c.beta))
	return x, y, g
}

func TestUnaryBackwardMatchesDerivative(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	type layoutCase struct {
		shape []int
		kind  string
	}
	layouts := []layoutCase{
		{[]int{1}, "contiguous"}, {[]int{7}, "contiguous"}, {[]int{4097}, "contiguous"},
		{[]int{33, 7}, "contiguous"}, {[]int{33, 7}, "permuted"}, {[]int{33, 7}, "padded"},
		{[]int{3, 5, 129}, "permuted"}, {[]int{200, 700}, "contiguous"},
	}
	// Float64 results are the derivative to within rounding; float32 ones
	// within a few float32 ulp of it (g and x are exact float32 values).
	tol := map[device.DType]float64{device.Float64: 1e-13, device.Float32: 1e-6}
	for _, c := range gradCases() {
		for _, dt := range []device.DType{device.Float32, device.Float64} {
			for _, l := range layouts {
				t.Run(fmt.Sprintf("%v/%v/%v/%s", c, dt, l.shape, l.kind), func(t *testing.T) {
					n := device.Numel(l.shape)
					xs, gs := actValues(r, n, false), actValues(r, n, false)
					if dt == device.Float32 {
						for i := range xs {
							xs[i], gs[i] = float64(float32(xs[i])), float64(float32(gs[i]))
						}
					}
					x, y, g := gradOperands(t, c, dt, xs, gs, l.shape, l.kind)
					for _, dxKind := range []string{"contiguous", l.kind} {
						dx := actView(t, dt, make([]float64, n), l.shape, dxKind)
						require.NoError(t, cpuBackend.UnaryBackward(c.op, dx, g, x, y, c.alpha, c.beta))
						got, ys := actRead(dx), actRead(y)
						for i := range xs {
							want := gs[i] * c.deriv(xs[i])
							if c.fromY != nil {
								want = gs[i] * c.fromY(ys[i])
							}
							if bound := tol[dt] * max(math.Abs(want), math.Abs(gs[i])*1e-3, 1e-300); !(math.Abs(want-got[i]) <= bound) {
								require.InDelta(t, want, got[i], bound, "element %d: x %v g %v", i, xs[i], gs[i])
							}
						}
					}
				})
			}
		}
	}
}

// TestUnaryBackwardFiniteDifferences checks each gradient against central
// differences of the forward kernel itself (float64), so the backward
// pass is the derivative of what Unary computes, thresholds included.
func TestUnaryBackwardFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	const n, h = 2000, 1e-6
	for _, c := range gradCases() {
		t.Run(c.String(), func(t *testing.T) {
			xs := actValues(r, n, false)
			for i := range xs {
				for _, k := range c.kinks {
					if math.Abs(xs[i]-k) < 1e-3 {
						xs[i] = k + 0.5
					}
				}
			}
			ones := make([]float64, n)
			for i := range ones {
				ones[i] = 1
			}
			x, y, g := gradOperands(t, c, device.Float64, xs, ones, []int{n}, "contiguous")
			dx := actView(t, device.Float64, make([]float64, n), []int{n}, "contiguous")
			require.NoError(t, cpuBackend.UnaryBackward(c.op, dx, g, x, y, c.alpha, c.beta))
			forward := func(shift float64) []float64 {
				s := make([]float64, n)
				for i, v := range xs {
					s[i] = v + shift
				}
				out := actView(t, device.Float64, make([]float64, n), []int{n}, "contiguous")
				require.NoError(t, cpuBackend.Unary(c.op, out, actView(t, device.Float64, s, []int{n}, "contiguous"), c.alpha, c.beta))
				return actRead(out)
			}
			up, down := forward(h), forward(-h)
			got := actRead(dx)
			for i := range xs {
				fd := (up[i] - down[i]) / (2 * h)
				require.InDelta(t, fd, got[i], 1e-6*max(1, math.Abs(fd)), "x = %v", xs[i])
			}
		})
	}
}

// TestUnaryBackwardSpecialValues pins the selections: a masked-out
// element is 0 even where g is NaN or infinite (as Where(mask, g, 0)),
// and a NaN input selects the "else" branch; infinities behave as their
// limits except in Gelu.
func TestUnaryBackwardSpecialValues(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	cases := []struct {
		op          device.UnaryOp
		alpha, beta float64
		a, g, want  []float64 // a is x or y as the op reads
	}{
		{device.Relu, 0, 0, []float64{-1, 0, 2, nan, -inf, inf}, []float64{nan, inf, 3, 5, 1, 1}, []float64{0, 0, 3, 0, 0, 1}},
		{device.LeakyRelu, 0.5, 0, []float64{-1, 2, nan}, []float64{4, 4, 4}, []float64{2, 4, 2}},
		{device.Threshold, 1, 7, []float64{1, 1.5, nan}, []float64{nan, 2, 2}, []float64{0, 2, 0}},
		{device.Clamp, -1, 1, []float64{-1, 1, -2, 2, nan, 0}, []float64{3, 3, nan, 3, 3, 3}, []float64{3, 3, 0, 0, 0, 3}},
		{device.Clamp, 0, inf, []float64{-1, 5, inf}, []float64{2, 2, 2}, []float64{0, 2, 2}},
		{device.Elu, 1, 0, []float64{-1, 3, 0, nan}, []float64{2, 2, 2, 2}, []float64{0, 2, 2, nan}},
		{device.Softplus, 0, 0, []float64{25, -inf, 0}, []float64{2, 2, 2}, []float64{2, 0, 1}},
		{device.Sigmoid, 0, 0, []float64{0.5, 1, 0}, []float64{4, 4, 4}, []float64{1, 0, 0}},
		{device.Tanh, 0, 0, []float64{0, 1, -1}, []float64{2, 2, 2}, []float64{2, 0, 0}},
		// x·φ(x) is ∞·0 at the infinities: NaN, as in PyTorch.
		{device.Gelu, 0, 0, []float64{0, inf, -inf}, []float64{2, 2, 2}, []float64{1, nan, nan}},
	}
	for _, c := range cases {
		for _, dt := range []device.DType{device.Float32, device.Float64} {
			n := len(c.a)
			a := actView(t, dt, c.a, []int{n}, "contiguous")
			g := actView(t, dt, c.g, []int{n}, "contiguous")
			dx := actView(t, dt, make([]float64, n), []int{n}, "contiguous")
			require.NoError(t, cpuBackend.UnaryBackward(c.op, dx, g, a, a, c.alpha, c.beta))
			got := actRead(dx)
			for i, w := range c.want {
				if math.IsNaN(w) {
					require.True(t, math.IsNaN(got[i]), "%v on %v: element %d is %v, want NaN", c.op, dt, i, got[i])
				} else {
					require.Equal(t, w, got[i], "%v on %v: element %d", c.op, dt, i)
				}
			}
		}
	}
}

func TestUnaryBackwardInPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	for _, c := range gradCases() {
		for _, dt := range []device.DType{device.Float32, device.Float64} {
			xs, gs := actValues(r, 33*7, false), actValues(r, 33*7, false)
			x, y, g := gradOperands(t, c, dt, xs, gs, []int{33, 7}, "padded")
			want := actView(t, dt, make([]float64, 33*7), []int{33, 7}, "contiguous")
			require.NoError(t, cpuBackend.UnaryBackward(c.op, want, g, x, y, c.alpha, c.beta))
			require.NoError(t, cpuBackend.UnaryBackward(c.op, g, g, x, y, c.alpha, c.beta))
			require.Equal(t, actBits(want), actBits(g), "%v on %v", c, dt)
		}
	}
}

func TestUnaryBackwardErrors(t *testing.T) {
	f32 := actView(t, device.Float32, []float64{1, 2, 3}, []int{3}, "contiguous")
	f64 := actView(t, device.Float64, []float64{1, 2, 3}, []int{3}, "contiguous")
	short := actView(t, device.Float32, []float64{1, 2}, []int{2}, "contiguous")
	ib, err := cpuBackend.Alloc(device.Int64, 3)
	require.NoError(t, err)
	i64 := device.View{Buf: ib, Layout: device.Contiguous(3)}
	for _, c := range []struct {
		name        string
		op          device.UnaryOp
		dx, g, x, y device.View
		want        string
	}{
		{"no gradient", device.Exp, f32, f32, f32, f32, "exp has no fused gradient"},
		{"step", device.Step, f32, f32, f32, f32, "step has no fused gradient"},
		{"negative elu alpha", device.Elu, f32, f32, device.View{}, f32, "needs alpha >= 0 (got -1)"},
		{"missing x", device.Relu, f32, f32, device.View{}, f32, "computed from the input x, which is missing"},
		{"missing y", device.Sigmoid, f32, f32, f32, device.View{}, "computed from the output y, which is missing"},
		{"int64", device.Relu, i64, i64, i64, device.View{}, "not implemented for int64"},
		{"mixed dtypes", device.Tanh, f32, f64, device.View{}, f32, "dtypes dx float32, g float64"},
		{"shapes", device.Relu, f32, f32, short, device.View{}, "shapes dx [3], g [3] and the input x [2] differ"},
	} {
		t.Run(c.name, func(t *testing.T) {
			alpha := 0.0
			if c.op == device.Elu {
				alpha = -1
			}
			err := cpuBackend.UnaryBackward(c.op, c.dx, c.g, c.x, c.y, alpha, 0)
			require.ErrorContains(t, err, c.want)
			require.ErrorContains(t, err, "device: cpu: unary backward")
		})
	}
	require.Equal(t, device.NoBackward, device.Exp.BackwardOperand())
	require.Equal(t, device.FromInput, device.Gelu.BackwardOperand())
	require.Equal(t, device.FromOutput, device.Tanh.BackwardOperand())
	require.Equal(t, device.FromOutput, device.Elu.BackwardOperand())
}
