package tensor_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/nabla-go/nabla/internal/prim"
	"github.com/nabla-go/nabla/tensor"
)

// biasActivation compares the fused bias + activation epilogue with the
// CPU's for every activation and both float dtypes: strided, transposed
// and broadcast inputs and biases, odd sizes, 3-D and 1-D inputs, empty
// tensors, NaN and infinities, out of place and in place (on contiguous
// and on transposed storage).
func (c *conf) biasActivation(t *testing.T) {
	c.t = t
	acts := []struct {
		act prim.Activation
		tl  confTol
	}{
		{prim.Activation{Kind: prim.ActNone}, confExact},
		{prim.Activation{Kind: prim.ActRelu}, confExact},
		{prim.Activation{Kind: prim.ActLeakyRelu, Alpha: 0.01}, confExact},
		{prim.Activation{Kind: prim.ActSigmoid}, confElem},
		{prim.Activation{Kind: prim.ActTanh}, confElem},
		{prim.Activation{Kind: prim.ActElu, Alpha: 1.5}, confElem},
		{prim.Activation{Kind: prim.ActSoftplus}, confElem},
		{prim.Activation{Kind: prim.ActGelu}, confElemAbs},
	}
	// inPlace runs the epilogue in place on a private copy of x stored
	// contiguously or, with transposed, column-major (a strided view).
	inPlace := func(x, bias *tensor.Tensor, act prim.Activation, transposed bool) *tensor.Tensor {
		y := x.Clone()
		if transposed {
			y = x.T().Contiguous().T()
		}
		return tensorOps.BiasActivationInPlace(y, bias, act)
	}
	special := tensor.FromSlice([]float64{math.NaN(), math.Inf(1), math.Inf(-1), -0.5, 2, math.NaN(), -3, 0.25, math.Inf(1)}).Reshape(3, 3)
	specialBias := tensor.FromSlice([]float64{1, math.Inf(-1), -0.0})
	for _, a := range acts {
		act := a.act
		name := "BiasActivation/" + act.String()
		fused := func(v ...*tensor.Tensor) *tensor.Tensor { return tensorOps.BiasActivation(v[0], v[1], act) }
		for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
			for _, shape := range [][]int{{1, 1}, {7, 33}, {33, 7}, {3, 4097}} {
				rows, cols := shape[0], shape[1]
				xs := c.layouts(dt, kWide, rows, cols)
				bs := c.layouts(dt, kAny, cols)
				for i, x := range xs {
					b := bs[i%len(bs)]
					c.check(name, a.tl, fused, x, b)
					if i < 3 { // contiguous, transposed, sliced: not the broadcast ones
						for _, tr := range []bool{false, true} {
							c.check(fmt.Sprintf("%sInPlace/transposed=%v", name, tr), a.tl,
								func(v ...*tensor.Tensor) *tensor.Tensor { return inPlace(v[0], v[1], act, tr) }, x, b)
						}
					}
				}
			}
			c.check(name+"/3d", a.tl, fused, confPlain(c.base(dt, kWide, 2, 5, 33)), confPlain(c.base(dt, kAny, 33)))
			c.check(name+"/permuted3d", a.tl, fused,
				confOperand{"permuted[5 2 33]", c.base(dt, kWide, 2, 5, 33), func(x *tensor.Tensor) *tensor.Tensor { return x.Permute(1, 0, 2) }},
				confPlain(c.base(dt, kAny, 33)))
			c.check(name+"/1d", a.tl, fused, confPlain(c.base(dt, kWide, 1000)), confPlain(c.base(dt, kAny, 1000)))
			c.check(name+"/empty", a.tl, fused, confPlain(c.base(dt, kWide, 0, 33)), confPlain(c.base(dt, kAny, 33)))
			c.check(name+"/special", confElemAbs, fused, confPlain(special.As(dt)), confPlain(specialBias.As(dt)))
		}
		// Misuse fails on the device as on the CPU.
		c.check(name+"/badbias", a.tl, fused, confPlain(c.base(tensor.Float32, kAny, 7, 33)), confPlain(c.base(tensor.Float32, kAny, 7)))
	}
}
