package tensor_test

// The device conformance suite: every tensor operation runs on every
// device in device.List() other than the CPU and is compared with the CPU
// backend on fresh random inputs (never zeros), with contiguous,
// transposed, sliced and broadcast operands, odd sizes (1, 7, 33, 1000,
// 4097), empty and 0-d tensors and every dtype. It builds in the default
// build and skips when the CPU is the only device; built with -tags cuda
// on a GPU machine it checks the CUDA backend.
//
// Tolerances: float32 elementwise results within a relative 1e-5 of the
// CPU's, reductions, softmax and matrix products within 1e-4 (matrix
// products relative to Σ|a||b|, the scale of their rounding error), and
// 5e-3 for TF32 products; integer and Bool results exactly; NaN and
// infinities at the same places.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/device/cuda"
	"github.com/nabla-go/nabla/tensor"
)

// confDevices lists the devices to check: all but the CPU.
func confDevices() []device.Device {
	var out []device.Device
	for _, d := range device.List() {
		if !d.IsCPU() {
			out = append(out, d)
		}
	}
	return out
}

// confSelfTestEnv makes TestConformance check a fake GPU that is the CPU
// backend under another name (see TestConformanceHarness).
const confSelfTestEnv = "NABLA_CONFORMANCE_SELFTEST"

// confFakeGPU is the CPU backend presented as cuda:0.
type confFakeGPU struct{ device.Backend }

func (confFakeGPU) Device() device.Device { return device.CUDA(0) }

type confFakeProvider struct{}

func (confFakeProvider) Open(int) (device.Backend, error) {
	cpu, err := device.Get(device.CPU())
	return confFakeGPU{cpu}, err
}
func (confFakeProvider) Count() int { return 1 }

// TestConformanceHarness runs the conformance suite in a child process
// against a fake GPU that is really the CPU backend: every comparison must
// then hold exactly, which checks the suite itself on machines without a
// GPU.
func TestConformanceHarness(t *testing.T) {
	if os.Getenv(confSelfTestEnv) == "1" {
		t.Skip("the child process runs TestConformance only")
	}
	if testing.Short() {
		t.Skip("runs a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestConformance$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), confSelfTestEnv+"=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "child process:\n%s", out)
	require.Contains(t, string(out), "--- PASS: TestConformance/cuda:0")
}

func TestConformance(t *testing.T) {
	if os.Getenv(confSelfTestEnv) == "1" {
		device.RegisterCUDA(confFakeProvider{})
	}
	devs := confDevices()
	if len(devs) == 0 {
		t.Skip("conformance: only the CPU is present; build with -tags cuda on a machine with an NVIDIA GPU to compare its backend with the CPU's")
	}
	for _, dev := range devs {
		t.Run(dev.String(), func(t *testing.T) {
			c := &conf{t: t, dev: dev, r: rand.New(rand.NewPCG(42, uint64(dev.Index)))}
			t.Run("Elementwise", c.elementwise)
			t.Run("Casts", c.casts)
			t.Run("Creation", c.creation)
			t.Run("Copies", c.copies)
			t.Run("Reductions", c.reductions)
			t.Run("Softmax", c.softmax)
			t.Run("MatMul", c.matmul)
			t.Run("Indexing", c.indexing)
			t.Run("Random", c.random)
			t.Run("Conv", c.conv)
			t.Run("Pool", c.pool)
			t.Run("Optim", c.optim)
			t.Run("CrossEntropy", c.crossEntropy)
			t.Run("BiasActivation", c.biasActivation)
			t.Run("Activation", c.activation)
			t.Run("BatchNorm", c.batchNorm)
			t.Run("Sorting", c.sorting)
			t.Run("Scans", c.scans)
			t.Run("Errors", c.errorsAsync)
		})
	}
	confWriteLaunches(t)
}

// conf holds the device under test and the input generator.
type conf struct {
	t   *testing.T
	dev device.Device
	r   *rand.Rand
}

// confTol is a comparison bound: |got-want| <= rel*max(|want|, floor).
type confTol struct{ rel, floor float64 }

var (
	confExact = confTol{0, 0}
	confElem  = confTol{1e-5, 1e-30}
	// For results that are differences of nearly equal numbers (log-softmax
	// near 0, gelu of very negative x) the error is bounded absolutely.
	confElemAbs = confTol{1e-5, 1}
	confRed     = confTol{1e-4, 1e-30}
	confRedAbs  = confTol{1e-4, 1}
)

// confOperand is a tensor built the same way on every device: base data on
// the CPU, moved to the device, then viewed.
type confOperand struct {
	desc string
	base *tensor.Tensor
	view func(*tensor.Tensor) *tensor.Tensor
}

func (o confOperand) on(dev device.Device) *tensor.Tensor {
	x := o.base.To(dev)
	if o.view != nil {
		x = o.view(x)
	}
	return x
}

// confKind selects the values of a random input.
type confKind int

const (
	kAny      confKind = iota // floats in ±[0.05, 3]
	kPositive                 // floats in [0.1, 4]
	kNearOne                  // floats in [0.8, 1.25] (products)
	kInts                     // integers in ±[1, 20]
	kTies                     // integers 0..3, many ties
	kWide                     // floats in ±[0.05, 30]
)

// values returns n fresh random values of kind k; never 0 except for
// kTies.
func (c *conf) values(n int, k confKind) []float64 {
	out := make([]float64, n)
	for i := range out {
		sign := 1.0
		if c.r.IntN(2) == 0 {
			sign = -1
		}
		switch k {
		case kPositive:
			out[i] = 0.1 + 3.9*c.r.Float64()
		case kNearOne:
			out[i] = 0.8 + 0.45*c.r.Float64()
		case kInts:
			out[i] = sign * float64(1+c.r.IntN(20))
		case kTies:
			out[i] = float64(c.r.IntN(4))
		case kWide:
			out[i] = sign * (0.05 + 29.95*c.r.Float64())
		default:
			out[i] = sign * (0.05 + 2.95*c.r.Float64())
		}
	}
	return out
}

// base returns a CPU tensor of shape and dtype with random values of kind
// k (Bool: random, Uint8: 1..200).
func (c *conf) base(dt tensor.DType, k confKind, shape ...int) *tensor.Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	switch dt {
	case tensor.Bool:
		b := make([]bool, n)
		for i := range b {
			b[i] = c.r.IntN(2) == 0
		}
		return tensor.FromSlice(b, shape...)
	case tensor.Uint8:
		u := make([]uint8, n)
		for i := range u {
			u[i] = uint8(1 + c.r.IntN(200))
			if k == kTies {
				u[i] = uint8(c.r.IntN(4))
			}
		}
		return tensor.FromSlice(u, shape...)
	case tensor.Int64:
		if k != kTies {
			k = kInts
		}
	}
	return tensor.FromSlice(c.values(n, k), shape...).As(dt)
}

// layouts returns operands of the logical shape (1-D or 2-D) in several
// layouts: contiguous, transposed, sliced with steps, and broadcast.
func (c *conf) layouts(dt tensor.DType, k confKind, shape ...int) []confOperand {
	ops := []confOperand{{desc: fmt.Sprintf("contiguous%v", shape), base: c.base(dt, k, shape...)}}
	switch len(shape) {
	case 1:
		n := shape[0]
		ops = append(ops,
			confOperand{fmt.Sprintf("step2[%d]", n), c.base(dt, k, 2*n+1), func(x *tensor.Tensor) *tensor.Tensor { return x.Slice(0, 1, 2*n+1, 2) }},
			confOperand{fmt.Sprintf("broadcast[%d]", n), c.base(dt, k, 1), func(x *tensor.Tensor) *tensor.Tensor { return x.Expand(n) }},
		)
	case 2:
		r, cl := shape[0], shape[1]
		ops = append(ops,
			confOperand{fmt.Sprintf("transposed[%d %d]", r, cl), c.base(dt, k, cl, r), func(x *tensor.Tensor) *tensor.Tensor { return x.T() }},
			confOperand{fmt.Sprintf("sliced[%d %d]", r, cl), c.base(dt, k, r+3, 2*cl), func(x *tensor.Tensor) *tensor.Tensor { return x.Narrow(0, 2, r).Slice(1, 1, 2*cl, 2) }},
			confOperand{fmt.Sprintf("rowbroadcast[%d %d]", r, cl), c.base(dt, k, 1, cl), func(x *tensor.Tensor) *tensor.Tensor { return x.Expand(r, cl) }},
			confOperand{fmt.Sprintf("colbroadcast[%d %d]", r, cl), c.base(dt, k, r, 1), func(x *tensor.Tensor) *tensor.Tensor { return x.Expand(r, cl) }},
		)
	}
	return ops
}

func confPlain(x *tensor.Tensor) confOperand {
	return confOperand{desc: fmt.Sprintf("%v%v", x.DType(), x.Shape()), base: x}
}

// check runs f on the CPU and on the device with the same operands and
// compares the results. Both must fail (panic with a tensor error), or
// both succeed with equal results.
func (c *conf) check(name string, tl confTol, f func(xs ...*tensor.Tensor) *tensor.Tensor, ops ...confOperand) {
	c.t.Helper()
	descs := make([]string, len(ops))
	cpuArgs := make([]*tensor.Tensor, len(ops))
	devArgs := make([]*tensor.Tensor, len(ops))
	for i, o := range ops {
		descs[i] = o.desc
		cpuArgs[i] = o.on(device.CPU())
		devArgs[i] = o.on(c.dev)
	}
	label := fmt.Sprintf("%s(%s)", name, strings.Join(descs, ", "))
	var want, got *tensor.Tensor
	errCPU := tensor.Catch(func() { want = f(cpuArgs...) })
	errDev := tensor.Catch(func() {
		g := f(devArgs...)
		require.Equal(c.t, c.dev, g.Device(), "%s: result is on the wrong device", label)
		got = g.CPU()
	})
	if errCPU != nil || errDev != nil {
		require.Equal(c.t, errCPU != nil, errDev != nil, "%s: cpu error %v, %v error %v", label, errCPU, c.dev, errDev)
		return
	}
	confCompare(c.t, label, want, got, tl, nil)
}

// confCompare compares got with want; scale, when given, replaces |want|
// as the magnitude of each element's allowed error.
func confCompare(t *testing.T, label string, want, got *tensor.Tensor, tl confTol, scale []float64) {
	t.Helper()
	require.Equal(t, want.Shape(), got.Shape(), "%s: shape", label)
	require.Equal(t, want.DType(), got.DType(), "%s: dtype", label)
	switch want.DType() {
	case tensor.Int64:
		require.Equal(t, want.Int64s(), got.Int64s(), "%s", label)
		return
	case tensor.Bool:
		require.Equal(t, want.Bools(), got.Bools(), "%s", label)
		return
	case tensor.Uint8:
		require.Equal(t, want.Uint8s(), got.Uint8s(), "%s", label)
		return
	}
	w, g := want.As(tensor.Float64).Float64s(), got.As(tensor.Float64).Float64s()
	worst, at := 0.0, -1
	for i := range w {
		switch {
		case math.IsNaN(w[i]):
			require.True(t, math.IsNaN(g[i]), "%s: element %d: want NaN, got %v", label, i, g[i])
			continue
		case math.IsInf(w[i], 0) || math.IsInf(g[i], 0) || math.IsNaN(g[i]):
			require.Equal(t, w[i], g[i], "%s: element %d", label, i)
			continue
		}
		mag := math.Abs(w[i])
		if scale != nil {
			mag = scale[i]
		}
		bound := tl.rel * max(mag, tl.floor)
		if d := math.Abs(g[i] - w[i]); d > bound {
			require.Failf(t, "mismatch", "%s: element %d: cpu %v, device %v (error %.3g > bound %.3g)", label, i, w[i], g[i], d, bound)
		} else if bound > 0 && d/bound > worst {
			worst, at = d/bound, i
		}
	}
	_ = at
}

func (c *conf) elementwise(t *testing.T) {
	c.t = t
	floats := []tensor.DType{tensor.Float32, tensor.Float64}
	type unary struct {
		name string
		k    confKind
		tl   confTol
		f    func(x *tensor.Tensor) *tensor.Tensor
		ints bool // defined for Int64 (and Uint8)
	}
	unaries := []unary{
		{"Neg", kAny, confElem, (*tensor.Tensor).Neg, true},
		{"Abs", kAny, confElem, (*tensor.Tensor).Abs, true},
		{"Sign", kAny, confElem, (*tensor.Tensor).Sign, true},
		{"Square", kAny, confElem, (*tensor.Tensor).Square, true},
		{"Exp", kAny, confElem, (*tensor.Tensor).Exp, false},
		{"Log", kPositive, confElem, (*tensor.Tensor).Log, false},
		{"Sqrt", kPositive, confElem, (*tensor.Tensor).Sqrt, false},
		{"Rsqrt", kPositive, confElem, (*tensor.Tensor).Rsqrt, false},
		{"Reciprocal", kAny, confElem, (*tensor.Tensor).Reciprocal, false},
		{"Sin", kAny, confElemAbs, (*tensor.Tensor).Sin, false},
		{"Cos", kAny, confElemAbs, (*tensor.Tensor).Cos, false},
		{"Log1p", kPositive, confElem, (*tensor.Tensor).Log1p, false},
		{"Expm1", kAny, confElem, (*tensor.Tensor).Expm1, false},
		{"Floor", kWide, confElem, (*tensor.Tensor).Floor, false},
		{"Ceil", kWide, confElem, (*tensor.Tensor).Ceil, false},
		{"Round", kWide, confElem, func(x *tensor.Tensor) *tensor.Tensor { return x.Mul(2).Round() }, false}, // halves: to even
		{"Erf", kAny, confElem, (*tensor.Tensor).Erf, false},
		{"Sigmoid", kWide, confElem, (*tensor.Tensor).Sigmoid, false},
		{"Tanh", kAny, confElem, (*tensor.Tensor).Tanh, false},
		{"Relu", kAny, confElem, (*tensor.Tensor).Relu, true},
		{"LeakyRelu", kAny, confElem, func(x *tensor.Tensor) *tensor.Tensor { return x.LeakyRelu(0.01) }, false},
		{"Elu", kAny, confElem, func(x *tensor.Tensor) *tensor.Tensor { return x.Elu(1.5) }, false},
		{"Softplus", kWide, confElem, (*tensor.Tensor).Softplus, false},
		{"Gelu", kWide, confElemAbs, (*tensor.Tensor).Gelu, false},
		{"Step", kAny, confElem, (*tensor.Tensor).Step, true},
		{"Threshold", kAny, confElem, func(x *tensor.Tensor) *tensor.Tensor { return x.Threshold(0.5, -2) }, true},
		{"Clamp", kAny, confElem, func(x *tensor.Tensor) *tensor.Tensor { return x.Clamp(-1, 2) }, true},
		{"ClampMin", kAny, confElem, func(x *tensor.Tensor) *tensor.Tensor { return x.ClampMin(0.5) }, false},
		{"Affine", kAny, confElem, func(x *tensor.Tensor) *tensor.Tensor { return x.Affine(1.7, -0.3) }, false},
		{"AffineInt", kAny, confElem, func(x *tensor.Tensor) *tensor.Tensor { return x.Affine(3, 2) }, true},
		{"ThresholdInt", kAny, confElem, func(x *tensor.Tensor) *tensor.Tensor { return x.Threshold(1, 7) }, true},
		{"AddScalar", kAny, confElem, func(x *tensor.Tensor) *tensor.Tensor { return x.Add(3) }, true},
		{"SubScalar", kAny, confElem, func(x *tensor.Tensor) *tensor.Tensor { return x.Sub(2) }, true},
		{"MulScalar", kAny, confElem, func(x *tensor.Tensor) *tensor.Tensor { return x.Mul(3) }, true},
		{"DivScalar", kAny, confElem, func(x *tensor.Tensor) *tensor.Tensor { return x.Div(3) }, false},
		{"RSub", kAny, confElem, func(x *tensor.Tensor) *tensor.Tensor { return x.RSub(2) }, true},
		{"RDiv", kAny, confElem, func(x *tensor.Tensor) *tensor.Tensor { return x.RDiv(2) }, false},
		{"PowScalar", kPositive, confElem, func(x *tensor.Tensor) *tensor.Tensor { return x.Pow(2.5) }, false},
		{"Square2", kAny, confElem, func(x *tensor.Tensor) *tensor.Tensor { return x.Pow(2) }, false},
	}
	shapes := [][]int{{1}, {7}, {1000}, {4097}, {33, 7}, {7, 33}}
	for _, u := range unaries {
		for _, dt := range append(floats, tensor.Int64, tensor.Uint8) {
			if !dt.IsFloat() && !u.ints {
				continue
			}
			for _, shape := range shapes {
				for _, o := range c.layouts(dt, u.k, shape...) {
					c.check(u.name, u.tl, func(xs ...*tensor.Tensor) *tensor.Tensor { return u.f(xs[0]) }, o)
				}
			}
		}
		// Empty and 0-d.
		c.check(u.name+"/empty", confElem, func(xs ...*tensor.Tensor) *tensor.Tensor { return u.f(xs[0]) }, confPlain(c.base(tensor.Float32, u.k, 0, 5)))
		c.check(u.name+"/0d", u.tl, func(xs ...*tensor.Tensor) *tensor.Tensor { return u.f(xs[0]) }, confPlain(c.base(tensor.Float32, u.k).Reshape()))
	}
	// NaN and infinities pass through as on the CPU.
	special := tensor.FromSlice([]float64{math.NaN(), math.Inf(1), math.Inf(-1), -0.5, 2, math.NaN(), -3, 0.25, math.Inf(1)})
	special2 := tensor.FromSlice([]float64{1, math.NaN(), 2, math.Inf(-1), math.NaN(), 3, math.Inf(1), -0.0, 0.5})
	for _, dt := range floats {
		for _, u := range unaries {
			c.check(u.name+"/special", confElemAbs, func(xs ...*tensor.Tensor) *tensor.Tensor { return u.f(xs[0]) }, confPlain(special.As(dt)))
		}
	}
	halves := tensor.FromSlice([]float64{0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, 1e7 + 0.5, -0.49999997})
	for _, dt := range floats {
		c.check("Round/halves", confExact, func(xs ...*tensor.Tensor) *tensor.Tensor { return xs[0].Round() }, confPlain(halves.As(dt)))
	}
	c.check("LogicalNot", confExact, func(xs ...*tensor.Tensor) *tensor.Tensor { return xs[0].LogicalNot() }, c.layouts(tensor.Bool, kAny, 33, 7)[1])

	type binary struct {
		name string
		f    func(x, y *tensor.Tensor) *tensor.Tensor
	}
	bin := func(name string, m func(*tensor.Tensor, any) *tensor.Tensor) binary {
		return binary{name, func(x, y *tensor.Tensor) *tensor.Tensor { return m(x, y) }}
	}
	arith := []binary{
		bin("Add", (*tensor.Tensor).Add), bin("Sub", (*tensor.Tensor).Sub), bin("Mul", (*tensor.Tensor).Mul), bin("Div", (*tensor.Tensor).Div),
		bin("Minimum", (*tensor.Tensor).Minimum), bin("Maximum", (*tensor.Tensor).Maximum),
	}
	compare := []binary{
		bin("Eq", (*tensor.Tensor).Eq), bin("Ne", (*tensor.Tensor).Ne), bin("Lt", (*tensor.Tensor).Lt),
		bin("Le", (*tensor.Tensor).Le), bin("Gt", (*tensor.Tensor).Gt), bin("Ge", (*tensor.Tensor).Ge),
	}
	logical := []binary{bin("And", (*tensor.Tensor).LogicalAnd), bin("Or", (*tensor.Tensor).LogicalOr), bin("Xor", (*tensor.Tensor).LogicalXor)}
	all := []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int64, tensor.Uint8}
	for _, shape := range [][]int{{1}, {7}, {33}, {4097}, {33, 7}, {1000, 33}} {
		for _, dt := range all {
			k := kAny
			if dt == tensor.Int64 || dt == tensor.Uint8 {
				k = kTies // equal operands for the comparisons
			}
			xs, ys := c.layouts(dt, k, shape...), c.layouts(dt, k, shape...)
			for i, x := range xs {
				y := ys[(i+1)%len(ys)]
				ops := arith
				if !dt.IsFloat() {
					// Integer Div by kTies values would divide by 0: tested below.
					ops = []binary{arith[0], arith[1], arith[2], arith[4], arith[5]}
				}
				for _, b := range ops {
					c.check(b.name, confElem, func(v ...*tensor.Tensor) *tensor.Tensor { return b.f(v[0], v[1]) }, x, y)
				}
				for _, b := range compare {
					c.check(b.name, confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return b.f(v[0], v[1]) }, x, y)
				}
			}
		}
		bx, by := c.layouts(tensor.Bool, kAny, shape...), c.layouts(tensor.Bool, kAny, shape...)
		for i := range bx {
			for _, b := range append(logical, compare[:2]...) {
				c.check(b.name, confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return b.f(v[0], v[1]) }, bx[i], by[len(by)-1-i])
			}
		}
	}
	// Integer division (nonzero divisors), float Pow, and broadcasting of
	// a column against a row and of a 0-d tensor.
	for _, dt := range []tensor.DType{tensor.Int64, tensor.Uint8} {
		c.check("Div", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Div(v[1]) },
			c.layouts(dt, kInts, 33, 7)[1], c.layouts(dt, kInts, 33, 7)[2])
	}
	for _, dt := range floats {
		c.check("Pow", confElem, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Pow(v[1]) },
			c.layouts(dt, kPositive, 33, 7)[1], c.layouts(dt, kAny, 33, 7)[3])
		c.check("Add/broadcast", confElem, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Add(v[1]) },
			confPlain(c.base(dt, kAny, 33, 1)), confPlain(c.base(dt, kAny, 1, 1000)))
		c.check("Mul/0d", confElem, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Mul(v[1]) },
			confPlain(c.base(dt, kAny, 7, 4097)), confPlain(c.base(dt, kAny).Reshape()))
		c.check("Sub/3d", confElem, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Sub(v[1]) },
			confOperand{"permuted[5 7 9]", c.base(dt, kAny, 9, 5, 7), func(x *tensor.Tensor) *tensor.Tensor { return x.Permute(1, 2, 0) }},
			confPlain(c.base(dt, kAny, 5, 1, 9)))
		c.check("Maximum/special", confElem, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Maximum(v[1]) },
			confPlain(special.As(dt)), confPlain(special2.As(dt)))
		c.check("Add/empty", confElem, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Add(v[1]) },
			confPlain(c.base(dt, kAny, 0, 7)), confPlain(c.base(dt, kAny, 1, 7)))
		for _, o := range c.layouts(tensor.Bool, kAny, 33, 7) {
			c.check("Where", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return tensor.Where(v[0], v[1], v[2]) },
				o, c.layouts(dt, kAny, 33, 7)[2], confPlain(c.base(dt, kAny, 1, 7)))
		}
		c.check("MaskedFill", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[1].MaskedFill(v[0], -7.5) },
			confPlain(c.base(tensor.Bool, kAny, 33, 1)), c.layouts(dt, kAny, 33, 7)[1])
	}
	c.check("Where/int64", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return tensor.Where(v[0], v[1], 5) },
		confPlain(c.base(tensor.Bool, kAny, 4097)), confPlain(c.base(tensor.Int64, kInts, 4097)))
	c.check("Where/bool", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return tensor.Where(v[0], v[1], v[2]) },
		confPlain(c.base(tensor.Bool, kAny, 1000)), confPlain(c.base(tensor.Bool, kAny, 1000)), confPlain(c.base(tensor.Bool, kAny, 1000)))
}

func (c *conf) casts(t *testing.T) {
	c.t = t
	dts := []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int64, tensor.Bool, tensor.Uint8}
	for _, from := range dts {
		for _, to := range dts {
			for _, o := range c.layouts(from, kWide, 33, 7) {
				c.check("As("+to.String()+")", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].As(to) }, o)
			}
			c.check("As("+to.String()+")/4097", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].As(to) }, confPlain(c.base(from, kWide, 4097)))
		}
	}
}

func (c *conf) creation(t *testing.T) {
	c.t = t
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int64, tensor.Bool, tensor.Uint8} {
		for _, shape := range [][]int{{}, {0}, {1}, {7}, {4097}, {33, 7}} {
			for _, v := range []float64{0, 1, 7, 2.5} {
				want := tensor.Of(dt).Full(v, shape...)
				got := tensor.Of(dt).On(c.dev).Full(v, shape...)
				confCompare(t, fmt.Sprintf("Full(%v, %v, %v)", dt, v, shape), want, got.CPU(), confExact, nil)
			}
		}
		confCompare(t, "Eye", tensor.Of(dt).Eye(33), tensor.Of(dt).On(c.dev).Eye(33).CPU(), confExact, nil)
		if dt != tensor.Bool {
			confCompare(t, "Arange", tensor.Of(dt).Arange(0, 1000, 3), tensor.Of(dt).On(c.dev).Arange(0, 1000, 3).CPU(), confExact, nil)
		}
	}
}

func (c *conf) copies(t *testing.T) {
	c.t = t
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int64, tensor.Bool, tensor.Uint8} {
		for _, o := range c.layouts(dt, kAny, 33, 7) {
			c.check("Contiguous", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Contiguous() }, o)
			c.check("Clone", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Clone() }, o)
			c.check("CopyFrom", confExact, func(v ...*tensor.Tensor) *tensor.Tensor {
				out := v[1].Clone().T().Contiguous().T() // a column-major destination
				out.CopyFrom(v[0])
				return out
			}, o, confPlain(c.base(dt, kAny, 33, 7)))
		}
		c.check("Cat", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return tensor.Cat([]*tensor.Tensor{v[0], v[1].T()}, 1) },
			confPlain(c.base(dt, kAny, 7, 33)), confPlain(c.base(dt, kAny, 5, 7)))
		c.check("Stack", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return tensor.Stack([]*tensor.Tensor{v[0], v[1]}, 1) },
			confPlain(c.base(dt, kAny, 7, 33)), confPlain(c.base(dt, kAny, 7, 33)))
		c.check("Permute/5d", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Permute(4, 2, 0, 3, 1).Contiguous() },
			confPlain(c.base(dt, kAny, 2, 3, 4, 5, 6)))
	}
	// A large transposed copy (strided kernel with 32-bit indexing).
	c.check("Transpose/large", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].T().Contiguous() },
		confPlain(c.base(tensor.Float32, kAny, 1000, 4097)))
}

func (c *conf) reductions(t *testing.T) {
	c.t = t
	type red struct {
		name  string
		f     func(x *tensor.Tensor, dims []int) *tensor.Tensor
		k     confKind
		tl    confTol
		ints  bool
		multi bool // accepts several dims
	}
	one := func(dims []int) int {
		if len(dims) == 0 {
			return 0
		}
		return dims[0]
	}
	reds := []red{
		{"Sum", func(x *tensor.Tensor, d []int) *tensor.Tensor { return x.Sum(d...) }, kAny, confRedAbs, true, true},
		{"SumKeepDim", func(x *tensor.Tensor, d []int) *tensor.Tensor { return x.SumKeepDim(d...) }, kAny, confRedAbs, true, true},
		{"Mean", func(x *tensor.Tensor, d []int) *tensor.Tensor { return x.Mean(d...) }, kAny, confRedAbs, false, true},
		{"Prod", func(x *tensor.Tensor, d []int) *tensor.Tensor { return x.Prod(d...) }, kNearOne, confRed, true, true},
		{"Max", func(x *tensor.Tensor, d []int) *tensor.Tensor { return x.Max(d...) }, kAny, confExact, true, true},
		{"Min", func(x *tensor.Tensor, d []int) *tensor.Tensor { return x.Min(d...) }, kAny, confExact, true, true},
		{"ArgMax", func(x *tensor.Tensor, d []int) *tensor.Tensor { return x.ArgMax(one(d)) }, kTies, confExact, true, false},
		{"ArgMin", func(x *tensor.Tensor, d []int) *tensor.Tensor { return x.ArgMin(one(d)) }, kTies, confExact, true, false},
		{"LogSumExp", func(x *tensor.Tensor, d []int) *tensor.Tensor { return x.LogSumExp(d...) }, kWide, confRed, false, true},
		// Var and Std are bounded absolutely: for rows of equal values
		// (the broadcast operand) one backend may give exactly 0 and the
		// other rounding noise of order eps·mean².
		{"Var", func(x *tensor.Tensor, d []int) *tensor.Tensor { return x.VarCorrected(0, false, d...) }, kAny, confRedAbs, false, true},
		{"Std", func(x *tensor.Tensor, d []int) *tensor.Tensor { return x.Std(d...) }, kAny, confRedAbs, false, true},
	}
	dimSets := [][]int{nil, {0}, {1}, {2}, {0, 2}, {1, 2}, {-1}}
	for _, rd := range reds {
		for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int64, tensor.Uint8, tensor.Bool} {
			if !dt.IsFloat() && !rd.ints {
				continue
			}
			if dt == tensor.Bool && rd.name != "Sum" {
				continue
			}
			ops := []confOperand{
				confPlain(c.base(dt, rd.k, 7, 33, 5)),
				{"permuted[7 33 5]", c.base(dt, rd.k, 5, 7, 33), func(x *tensor.Tensor) *tensor.Tensor { return x.Permute(1, 2, 0) }},
				{"sliced[7 33 5]", c.base(dt, rd.k, 8, 33, 11), func(x *tensor.Tensor) *tensor.Tensor { return x.Narrow(0, 1, 7).Slice(2, 0, 10, 2) }},
				{"broadcast[7 33 5]", c.base(dt, rd.k, 7, 1, 5), func(x *tensor.Tensor) *tensor.Tensor { return x.Expand(7, 33, 5) }},
			}
			for _, o := range ops {
				for _, dims := range dimSets {
					if !rd.multi && len(dims) > 1 {
						continue
					}
					c.check(fmt.Sprintf("%s%v", rd.name, dims), rd.tl, func(v ...*tensor.Tensor) *tensor.Tensor { return rd.f(v[0], dims) }, o)
				}
			}
		}
		// Long rows (a block per row), a full reduction of a long vector
		// (two passes), columns (strided inner), odd sizes, empty and 0-d.
		for _, shape := range [][]int{{4097}, {1 << 20}, {3, 100003}, {1000, 33}, {100000, 3}, {1}, {7, 1}} {
			dims := [][]int{nil, {len(shape) - 1}, {0}}
			for _, d := range dims {
				if !rd.multi && d == nil {
					d = []int{0}
				}
				c.check(fmt.Sprintf("%s%v%v", rd.name, shape, d), rd.tl, func(v ...*tensor.Tensor) *tensor.Tensor { return rd.f(v[0], d) },
					confPlain(c.base(tensor.Float32, rd.k, shape...)))
			}
		}
		c.check(rd.name+"/T", rd.tl, func(v ...*tensor.Tensor) *tensor.Tensor { return rd.f(v[0].T(), []int{1}) }, confPlain(c.base(tensor.Float32, rd.k, 4097, 33)))
		if rd.multi {
			c.check(rd.name+"/empty", rd.tl, func(v ...*tensor.Tensor) *tensor.Tensor { return rd.f(v[0], []int{1}) }, confPlain(c.base(tensor.Float32, rd.k, 3, 0)))
			c.check(rd.name+"/emptyrows", rd.tl, func(v ...*tensor.Tensor) *tensor.Tensor { return rd.f(v[0], []int{1}) }, confPlain(c.base(tensor.Float32, rd.k, 0, 5)))
		}
		c.check(rd.name+"/0d", rd.tl, func(v ...*tensor.Tensor) *tensor.Tensor { return rd.f(v[0], nil) }, confPlain(c.base(tensor.Float64, rd.k).Reshape()))
		special := tensor.FromSlice([]float64{1, math.NaN(), 3, math.Inf(1), -2, math.Inf(-1), 4, 4}, 2, 4)
		c.check(rd.name+"/special", rd.tl, func(v ...*tensor.Tensor) *tensor.Tensor { return rd.f(v[0], []int{1}) }, confPlain(special))
		c.check(rd.name+"/special-T", rd.tl, func(v ...*tensor.Tensor) *tensor.Tensor { return rd.f(v[0].T(), []int{0}) }, confPlain(special))
	}
}

func (c *conf) softmax(t *testing.T) {
	c.t = t
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		for _, shape := range [][]int{{7}, {33, 7}, {7, 1000}, {3, 4097}, {2, 20000}, {1, 1}} {
			for dim := range shape {
				for _, log := range []bool{false, true} {
					name, tl := "Softmax", confRed
					f := func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Softmax(dim) }
					if log {
						name, tl = "LogSoftmax", confRedAbs
						f = func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].LogSoftmax(dim) }
					}
					c.check(fmt.Sprintf("%s(%d)", name, dim), tl, f, confPlain(c.base(dt, kWide, shape...)))
					if len(shape) == 2 {
						rev := []int{shape[1], shape[0]}
						c.check(fmt.Sprintf("%s(%d)/T", name, dim), tl, func(v ...*tensor.Tensor) *tensor.Tensor { return f(v[0].T()) }, confPlain(c.base(dt, kWide, rev...)))
					}
				}
			}
		}
		special := tensor.FromSlice([]float64{
			1, 2, 3, 4,
			1, math.NaN(), 3, 4,
			math.Inf(-1), math.Inf(-1), math.Inf(-1), math.Inf(-1),
			math.Inf(-1), 0, 1, math.Inf(-1),
			1, math.Inf(1), 2, 3,
		}, 5, 4).As(dt)
		c.check("Softmax/special", confRed, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Softmax(1) }, confPlain(special))
		c.check("LogSoftmax/special", confRedAbs, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].LogSoftmax(1) }, confPlain(special))
		c.check("Softmax/0d", confRed, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Softmax(0) }, confPlain(c.base(dt, kWide).Reshape()))
		c.check("Softmax/empty", confRed, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Softmax(1) }, confPlain(c.base(dt, kWide, 0, 7)))
	}
}

func (c *conf) matmul(t *testing.T) {
	c.t = t
	// matmulCheck compares against the CPU with the error bound scaled by
	// Σ|a||b| (computed in float64), the natural scale of a product's
	// rounding error.
	check := func(name string, rel float64, f func(a, b *tensor.Tensor) *tensor.Tensor, a, b confOperand) {
		t.Helper()
		ac, bc := a.on(device.CPU()), b.on(device.CPU())
		want := f(ac, bc)
		got := f(a.on(c.dev), b.on(c.dev))
		require.Equal(t, c.dev, got.Device())
		scale := f(ac.Abs().As(tensor.Float64), bc.Abs().As(tensor.Float64)).Float64s()
		confCompare(t, fmt.Sprintf("%s(%s, %s)", name, a.desc, b.desc), want, got.CPU(), confTol{rel, 1e-30}, scale)
	}
	mm := func(a, b *tensor.Tensor) *tensor.Tensor { return a.MatMul(b) }
	type mnk struct{ m, n, k int }
	sizes := []mnk{{1, 1, 1}, {7, 5, 33}, {33, 1000, 7}, {128, 128, 128}, {130, 129, 257}, {256, 512, 384}, {1, 4097, 33}, {300, 1, 100}}
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		for _, s := range sizes {
			ar, at := c.base(dt, kAny, s.m, s.k), c.base(dt, kAny, s.k, s.m)
			br, bt := c.base(dt, kAny, s.k, s.n), c.base(dt, kAny, s.n, s.k)
			aOps := []confOperand{confPlain(ar), {fmt.Sprintf("T[%d %d]", s.m, s.k), at, (*tensor.Tensor).T}}
			bOps := []confOperand{confPlain(br), {fmt.Sprintf("T[%d %d]", s.k, s.n), bt, (*tensor.Tensor).T}}
			for _, a := range aOps {
				for _, b := range bOps {
					check("MatMul", 1e-4, mm, a, b)
				}
			}
			// A strided (sliced) confOperand takes the generic kernel.
			check("MatMul/sliced", 1e-4, mm,
				confOperand{"sliced", c.base(dt, kAny, s.m, 2*s.k), func(x *tensor.Tensor) *tensor.Tensor { return x.Slice(1, 0, 2*s.k, 2) }}, confPlain(br))
		}
		// Batched, with a broadcast batch confOperand, a vector confOperand, and an
		// empty inner dimension.
		check("MatMul/batched", 1e-4, mm, confPlain(c.base(dt, kAny, 3, 130, 70)), confPlain(c.base(dt, kAny, 3, 70, 150)))
		check("MatMul/broadcast", 1e-4, mm, confPlain(c.base(dt, kAny, 4, 2, 33, 40)), confPlain(c.base(dt, kAny, 40, 7)))
		check("MatMul/broadcastT", 1e-4, mm,
			confOperand{"T", c.base(dt, kAny, 5, 200, 160), func(x *tensor.Tensor) *tensor.Tensor { return x.Transpose(1, 2) }},
			confOperand{"T", c.base(dt, kAny, 150, 200), (*tensor.Tensor).T})
		check("MatMul/vector", 1e-4, mm, confPlain(c.base(dt, kAny, 33)), confPlain(c.base(dt, kAny, 33, 1000)))
		check("MatMul/dot", 1e-4, mm, confPlain(c.base(dt, kAny, 4097)), confPlain(c.base(dt, kAny, 4097)))
		c.check("MatMul/k0", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].MatMul(v[1]) },
			confPlain(c.base(dt, kAny, 7, 0)), confPlain(c.base(dt, kAny, 0, 5)))
		c.check("MatMul/m0", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].MatMul(v[1]) },
			confPlain(c.base(dt, kAny, 0, 7)), confPlain(c.base(dt, kAny, 7, 5)))
	}
	// TF32 (tensor cores on sm_80+; elsewhere the same FP32 kernels run).
	cuda.SetAllowTF32(true)
	defer cuda.SetAllowTF32(false)
	for _, s := range []mnk{{256, 512, 384}, {130, 129, 257}, {1024, 1024, 1024}} {
		ar, at := c.base(tensor.Float32, kAny, s.m, s.k), c.base(tensor.Float32, kAny, s.k, s.m)
		br, bt := c.base(tensor.Float32, kAny, s.k, s.n), c.base(tensor.Float32, kAny, s.n, s.k)
		for _, a := range []confOperand{confPlain(ar), {"T", at, (*tensor.Tensor).T}} {
			for _, b := range []confOperand{confPlain(br), {"T", bt, (*tensor.Tensor).T}} {
				check("MatMul/tf32", 5e-3, mm, a, b)
			}
		}
	}
}

func (c *conf) indexing(t *testing.T) {
	c.t = t
	idx := func(n, size int, shape ...int) *tensor.Tensor {
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(c.r.IntN(size))
		}
		return tensor.FromSlice(v, shape...)
	}
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int64, tensor.Bool, tensor.Uint8} {
		src := c.layouts(dt, kAny, 33, 7)
		for _, s := range src {
			c.check("Gather(0)", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Gather(0, v[1]) }, s, confPlain(idx(50*7, 33, 50, 7)))
			c.check("Gather(1)", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Gather(1, v[1]) }, s, confPlain(idx(33*3, 7, 33, 3)))
			c.check("IndexSelect(0)", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].IndexSelect(0, v[1]) }, s, confPlain(idx(1000, 33, 1000)))
			c.check("IndexSelect(1)", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].IndexSelect(1, v[1]) }, s, confPlain(idx(9, 7, 9)))
		}
		if dt == tensor.Bool || dt == tensor.Uint8 {
			continue
		}
		// Scatter-add accumulates duplicates atomically (in any order for
		// floats: rounding may differ at the last bit).
		tl := confTol{1e-5, 1}
		if dt == tensor.Int64 {
			tl = confExact
		}
		for _, s := range src {
			c.check("ScatterAdd(0)", tl, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].ScatterAdd(0, v[1], v[2]) },
				s, confPlain(idx(1000*7, 33, 1000, 7)), confPlain(c.base(dt, kAny, 1000, 7)))
			c.check("IndexAdd(1)", tl, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].IndexAdd(1, v[1], v[2]) },
				s, confPlain(idx(20, 7, 20)), confPlain(c.base(dt, kAny, 33, 20)))
		}
	}
}

func (c *conf) random(t *testing.T) {
	c.t = t
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		for _, n := range []int{1, 7, 4097, 100003} {
			for _, dist := range []string{"Rand", "Randn", "Uniform", "Normal", "Bernoulli", "RandInt"} {
				draw := func(dev device.Device) *tensor.Tensor {
					o := tensor.Of(dt).On(dev).WithGenerator(tensor.NewGenerator(uint64(n) * 7919))
					switch dist {
					case "Rand":
						return o.Rand(n, 1)
					case "Randn":
						return o.Randn(n)
					case "Uniform":
						return o.Uniform(-2, 5, n)
					case "Normal":
						return o.Normal(3, 0.5, n)
					case "Bernoulli":
						return o.Bernoulli(0.3, n)
					}
					return tensor.Of(tensor.Int64).On(dev).WithGenerator(tensor.NewGenerator(uint64(n))).RandInt(-5, 1000, n)
				}
				// Drawn on the host and copied: bit-identical on every device.
				confCompare(t, fmt.Sprintf("%s(%v, %d)", dist, dt, n), draw(device.CPU()), draw(c.dev).CPU(), confExact, nil)
			}
		}
	}
	for _, dt := range []tensor.DType{tensor.Bool, tensor.Uint8, tensor.Int64} {
		o := func(dev device.Device) tensor.Options {
			return tensor.Of(dt).On(dev).WithGenerator(tensor.NewGenerator(99))
		}
		confCompare(t, "Bernoulli/"+dt.String(), o(device.CPU()).Bernoulli(0.5, 4097), o(c.dev).Bernoulli(0.5, 4097).CPU(), confExact, nil)
	}
	// The default generator advances identically on both devices.
	tensor.ManualSeed(5)
	a := tensor.Rand(1000)
	tensor.ManualSeed(5)
	b := tensor.On(c.dev).Rand(1000)
	confCompare(t, "ManualSeed", a, b.CPU(), confExact, nil)
}

func (c *conf) conv(t *testing.T) {
	c.t = t
	geoms := []tensor.ConvGeometry{
		{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1},
		{KernelH: 2, KernelW: 3, StrideH: 2, StrideW: 1, PadH: 0, PadW: 2},
		{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, PadH: 2, PadW: 1, DilationH: 2, DilationW: 2},
		{KernelH: 1, KernelW: 1, StrideH: 1, StrideW: 1},
	}
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int64} {
		for gi, g := range geoms {
			x := c.base(dt, kAny, 2, 3, 9, 11)
			ops := []confOperand{confPlain(x), {"permuted", c.base(dt, kAny, 3, 2, 11, 9), func(x *tensor.Tensor) *tensor.Tensor { return x.Permute(1, 0, 3, 2) }}}
			for _, o := range ops {
				c.check(fmt.Sprintf("Im2Col#%d", gi), confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return tensor.Im2Col(v[0], g) }, o)
			}
			shape := g.ColumnShape(2, 3, 9, 11)
			cols := c.base(dt, kAny, shape...)
			tl := confTol{1e-6, 1}
			if dt == tensor.Int64 {
				tl = confExact
			}
			c.check(fmt.Sprintf("Col2Im#%d", gi), tl, func(v ...*tensor.Tensor) *tensor.Tensor { return tensor.Col2Im(v[0], 3, 9, 11, g) }, confPlain(cols))
			c.check(fmt.Sprintf("Col2Im#%d/T", gi), tl, func(v ...*tensor.Tensor) *tensor.Tensor {
				return tensor.Col2Im(v[0].Transpose(1, 2).Contiguous().Transpose(1, 2), 3, 9, 11, g)
			}, confPlain(cols))
		}
	}
}

func (c *conf) pool(t *testing.T) {
	c.t = t
	geoms := []tensor.ConvGeometry{
		{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2},
		{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
		{KernelH: 3, KernelW: 2, StrideH: 1, StrideW: 2, PadH: 1, DilationH: 2},
	}
	tl := confTol{1e-6, 1}
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		for gi, g := range geoms {
			oh, ow := g.OutSize(9, 11)
			for _, k := range []confKind{kAny, kTies} {
				ops := []confOperand{confPlain(c.base(dt, k, 2, 3, 9, 11)),
					{"permuted", c.base(dt, k, 3, 2, 11, 9), func(x *tensor.Tensor) *tensor.Tensor { return x.Permute(1, 0, 3, 2) }}}
				dy := confPlain(c.base(dt, kAny, 2, 3, oh, ow))
				for _, o := range ops {
					c.check(fmt.Sprintf("MaxPool2d#%d", gi), confExact, func(v ...*tensor.Tensor) *tensor.Tensor { y, _ := tensor.MaxPool2d(v[0], g); return y }, o)
					c.check(fmt.Sprintf("MaxPool2d#%d/idx", gi), confExact, func(v ...*tensor.Tensor) *tensor.Tensor { _, i := tensor.MaxPool2d(v[0], g); return i }, o)
					c.check(fmt.Sprintf("MaxPool2dBackward#%d", gi), tl, func(v ...*tensor.Tensor) *tensor.Tensor {
						_, i := tensor.MaxPool2d(v[0], g)
						return tensorOps.MaxPool2dBackward(v[1], i, 9, 11, g)
					}, o, dy)
					c.check(fmt.Sprintf("AvgPool2d#%d", gi), tl, func(v ...*tensor.Tensor) *tensor.Tensor { return tensor.AvgPool2d(v[0], g) }, o)
				}
				c.check(fmt.Sprintf("AvgPool2dBackward#%d", gi), tl, func(v ...*tensor.Tensor) *tensor.Tensor { return tensorOps.AvgPool2dBackward(v[0], 9, 11, g) }, dy)
			}
		}
	}
}

func (c *conf) optim(t *testing.T) {
	c.t = t
	sgd := []device.OptimHyper{
		{LR: 0.1, WeightDecay: 0.01, Momentum: 0.9, Dampening: 0.1},
		{LR: 0.1, Momentum: 0.9, Nesterov: true, Maximize: true, FirstStep: true},
	}
	adam := []device.OptimHyper{
		{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, StepSize: 0.01 / 0.19, BC2Sqrt: 0.0447, Shrink: 1, WeightDecay: 0.1},
		{Beta1: 0.8, Beta2: 0.99, Eps: 1e-6, StepSize: 0.03, BC2Sqrt: 0.2, Shrink: 0.998, AMSGrad: true, Maximize: true},
	}
	adagrad := []device.OptimHyper{
		{LR: 0.05, Eps: 1e-10},
		{LR: 0.04, Eps: 1e-3, WeightDecay: 0.1, Maximize: true},
	}
	rmsprop := []device.OptimHyper{
		{LR: 0.01, Alpha: 0.99, Eps: 1e-8},
		{LR: 0.01, Alpha: 0.9, Eps: 1e-6, Momentum: 0.5, WeightDecay: 0.1, Maximize: true},
		{LR: 0.02, Alpha: 0.8, Eps: 1e-4, Centered: true},
		{LR: 0.02, Alpha: 0.9, Eps: 1e-8, Centered: true, Momentum: 0.7, WeightDecay: 0.01},
	}
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		p, g := confPlain(c.base(dt, kAny, 3, 70)), confPlain(c.base(dt, kAny, 3, 70))
		s0, s1, s2 := confPlain(c.base(dt, kAny, 3, 70)), confPlain(c.base(dt, kPositive, 3, 70)), confPlain(c.base(dt, kPositive, 3, 70))
		for hi, h := range sgd {
			c.check(fmt.Sprintf("FusedSGDStep#%d", hi), confExact, func(v ...*tensor.Tensor) *tensor.Tensor {
				pp, buf := v[0].Clone(), v[2].Clone()
				tensorOps.FusedSGDStep(pp, v[1], buf, h)
				return tensor.Stack([]*tensor.Tensor{pp, buf}, 0)
			}, p, g, s0)
		}
		for hi, h := range adam {
			c.check(fmt.Sprintf("FusedAdamStep#%d", hi), confExact, func(v ...*tensor.Tensor) *tensor.Tensor {
				pp, m, vv, vm := v[0].Clone(), v[2].Clone(), v[3].Clone(), v[4].Clone()
				tensorOps.FusedAdamStep(pp, v[1], m, vv, vm, h)
				return tensor.Stack([]*tensor.Tensor{pp, m, vv, vm}, 0)
			}, p, g, s0, s1, s2)
		}
		for hi, h := range adagrad {
			c.check(fmt.Sprintf("FusedAdagradStep#%d", hi), confExact, func(v ...*tensor.Tensor) *tensor.Tensor {
				pp, sum := v[0].Clone(), v[2].Clone()
				tensorOps.FusedAdagradStep(pp, v[1], sum, h)
				return tensor.Stack([]*tensor.Tensor{pp, sum}, 0)
			}, p, g, s1)
		}
		// square_avg positive and above grad_avg², as a run keeps them.
		gavg := confPlain(c.base(dt, kAny, 3, 70).Mul(0.1))
		for hi, h := range rmsprop {
			c.check(fmt.Sprintf("FusedRMSPropStep#%d", hi), confExact, func(v ...*tensor.Tensor) *tensor.Tensor {
				pp, sq, buf, ga := v[0].Clone(), v[2].Clone(), v[3].Clone(), v[4].Clone()
				tensorOps.FusedRMSPropStep(pp, v[1], sq, buf, ga, h)
				return tensor.Stack([]*tensor.Tensor{pp, sq, buf, ga}, 0)
			}, p, g, s1, s0, gavg)
		}
	}
}

// errorsAsync checks that data-dependent errors (integer division by
// zero, indices out of range) are reported on the device too; there they
// surface when the result is read.
func (c *conf) errorsAsync(t *testing.T) {
	c.t = t
	x := tensor.FromSlice([]int64{1, 2, 3, 4})
	y := tensor.FromSlice([]int64{1, 0, 1, 1})
	c.check("Div/zero", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Div(v[1]) }, confPlain(x), confPlain(y))
	bad := tensor.FromSlice([]int64{0, 5, 1}, 3, 1)
	c.check("Gather/range", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Gather(1, v[1]) }, confPlain(c.base(tensor.Float32, kAny, 3, 4)), confPlain(bad))
	c.check("ScatterAdd/range", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].ScatterAdd(0, v[1], v[2]) },
		confPlain(c.base(tensor.Float32, kAny, 3, 1)), confPlain(tensor.FromSlice([]int64{0, 3, 1}, 3, 1)), confPlain(c.base(tensor.Float32, kAny, 3, 1)))
	// After a reported error the device keeps working.
	c.check("Add/after", confElem, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Add(v[1]) },
		confPlain(c.base(tensor.Float32, kAny, 33)), confPlain(c.base(tensor.Float32, kAny, 33)))
}
