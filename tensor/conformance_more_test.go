package tensor_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/nabla-go/nabla/tensor"
)

// sorting compares Sort, ArgSort and TopK with the CPU: every dtype,
// both directions, sorted dimensions of lengths 1 to 1000 (padded to 1024
// by the device's sorting network), every layout, ties, NaN and
// infinities, 0-d and empty tensors. Orders and values must be equal
// exactly: both sorts are stable.
func (c *conf) sorting(t *testing.T) {
	c.t = t
	sortBoth := func(dim int, desc bool) func(v ...*tensor.Tensor) *tensor.Tensor {
		return func(v ...*tensor.Tensor) *tensor.Tensor {
			vals, idx := v[0].Sort(dim, desc)
			return tensor.Stack([]*tensor.Tensor{vals.As(tensor.Float64), idx.As(tensor.Float64)}, 0)
		}
	}
	topK := func(v ...*tensor.Tensor) *tensor.Tensor {
		vals, idx := v[0].TopK(3, 1, true)
		return tensor.Stack([]*tensor.Tensor{vals.As(tensor.Float64), idx.As(tensor.Float64)}, 0)
	}
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int64, tensor.Uint8, tensor.Bool} {
		// Many ties, in every layout: a dimension of 33 (padded to 64)
		// and one of 7 (padded to 8).
		for _, o := range c.layouts(dt, kTies, 33, 7) {
			c.check("Sort(0)", confExact, sortBoth(0, false), o)
			c.check("Sort(1, descending)", confExact, sortBoth(1, true), o)
			c.check("TopK", confExact, topK, o)
		}
		distinct := confPlain(c.base(dt, kAny, 33, 7))
		c.check("Sort(0, descending)", confExact, sortBoth(0, true), distinct)
		c.check("ArgSort", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].ArgSort(1, false) }, distinct)
		c.check("Sort/130", confExact, sortBoth(-1, false), confPlain(c.base(dt, kTies, 5, 130)))
	}
	c.check("Sort/1000", confExact, sortBoth(1, true), confPlain(c.base(tensor.Float32, kAny, 3, 1000)))
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		c.check("TopK/smallest", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return second(v[0].TopK(5, 0, false)) },
			confPlain(c.base(dt, kAny, 100, 3)))
		special := tensor.FromSlice([]float64{math.NaN(), 1, math.Inf(-1), 0, math.NaN(), math.Inf(1), -1, 1, math.Copysign(0, -1), 2,
			math.Inf(1), math.NaN(), 0, math.Inf(1), math.NaN(), math.Inf(-1), 2, math.Copysign(0, -1), math.NaN(), 1}, 2, 10).As(dt)
		for _, desc := range []bool{false, true} {
			c.check("Sort/special", confExact, sortBoth(1, desc), confPlain(special))
			c.check("Sort/special/dim0", confExact, sortBoth(0, desc), confPlain(special))
		}
		c.check("Sort/0d", confExact, sortBoth(0, false), confPlain(c.base(dt, kAny).Reshape()))
		c.check("Sort/empty", confExact, sortBoth(1, false), confPlain(c.base(dt, kAny, 0, 5)))
		c.check("Sort/3d", confExact, sortBoth(1, false), confOperand{"permuted[4 9 5]", c.base(dt, kTies, 5, 4, 9),
			func(x *tensor.Tensor) *tensor.Tensor { return x.Permute(1, 2, 0) }})
	}
}

// scans compares CumSum, Flip, Repeat, OneHot, Norm, Any and All with the
// CPU on every dtype they take and several layouts.
func (c *conf) scans(t *testing.T) {
	c.t = t
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int64, tensor.Uint8, tensor.Bool} {
		for _, o := range c.layouts(dt, kAny, 33, 7) {
			for _, dim := range []int{0, 1} {
				c.check(fmt.Sprintf("CumSum(%d)", dim), confRedAbs, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].CumSum(dim) }, o)
			}
			c.check("Flip", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Flip(0, 1) }, o)
			c.check("Repeat", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Repeat(2, 1, 3) }, o)
			c.check("Any", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Any(1) }, o)
			c.check("All", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].All(0) }, o)
		}
		c.check("Any/ties", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Any(0) }, confPlain(c.base(dt, kTies, 3, 33)))
		c.check("All/ties", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].All(1) }, confPlain(c.base(dt, kTies, 33, 3)))
		c.check("CumSum/4097", confRedAbs, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].CumSum(0) }, confPlain(c.base(dt, kAny, 4097)))
		c.check("CumSum/0d", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].CumSum(0) }, confPlain(c.base(dt, kAny).Reshape()))
		c.check("Flip/empty", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Flip(1) }, confPlain(c.base(dt, kAny, 0, 5)))
	}
	labels := func(n, classes int) *tensor.Tensor {
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(c.r.IntN(classes))
		}
		return tensor.FromSlice(v)
	}
	c.check("OneHot", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return tensor.OneHot(v[0], 10) }, confPlain(labels(1000, 10)))
	c.check("OneHot/2d", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return tensor.OneHot(v[0].Reshape(5, 7), -1) }, confPlain(labels(35, 4)))
	c.check("OneHot/strided", confExact, func(v ...*tensor.Tensor) *tensor.Tensor { return tensor.OneHot(v[0].Slice(0, 1, 99, 3), 7) }, confPlain(labels(99, 7)))
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		for _, o := range c.layouts(dt, kAny, 33, 7) {
			for _, p := range []float64{2, 1, 3, 0.5, math.Inf(1), math.Inf(-1), 0} {
				c.check(fmt.Sprintf("Norm(%v)", p), confRed, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Norm(p, 1) }, o)
			}
			c.check("Norm/all", confRed, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].Norm(2) }, o)
			c.check("NormKeepDim", confRed, func(v ...*tensor.Tensor) *tensor.Tensor { return v[0].NormKeepDim(2, 0) }, o)
		}
	}
}
