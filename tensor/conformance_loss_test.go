package tensor_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/nabla-go/nabla/tensor"
)

// crossEntropy compares the fused CrossEntropy (loss and lse, stacked)
// and CrossEntropyBackward (from each device's own lse) with the CPU on
// contiguous, transposed and sliced logits, strided labels, broadcast
// upstream gradients, large logits, NaN and infinities, and bad labels.
// Tolerances: loss, lse and dx are bounded absolutely near 0 (confRedAbs):
// the loss is a difference of nearly equal numbers when the label holds
// the maximum, and a gradient entry's error scales with |g|, not with the
// entry (looser for float32 logits near 1e4, see below).
func (c *conf) crossEntropy(t *testing.T) {
	c.t = t
	labels := func(m, classes, stride int) confOperand {
		v := make([]int64, m*stride)
		for i := range v {
			v[i] = int64(c.r.IntN(classes))
		}
		o := confPlain(tensor.FromSlice(v))
		if stride > 1 {
			o.desc = fmt.Sprintf("labels[%d]/step%d", m, stride)
			o.view = func(x *tensor.Tensor) *tensor.Tensor { return x.Slice(0, 0, m*stride, stride) }
		}
		return o
	}
	forward := func(v ...*tensor.Tensor) *tensor.Tensor {
		loss, lse := tensorOps.CrossEntropy(v[0], v[1])
		return tensor.Stack([]*tensor.Tensor{loss, lse}, 0)
	}
	backward := func(v ...*tensor.Tensor) *tensor.Tensor {
		_, lse := tensorOps.CrossEntropy(v[0], v[1])
		return tensorOps.CrossEntropyBackward(v[0], lse, v[1], v[2])
	}
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		for _, cols := range []int{1, 7, 10, 1000, 4097} {
			m := 33
			if cols > 1000 {
				m = 5
			}
			xs := c.layouts(dt, kWide, m, cols)[:3] // contiguous, transposed, sliced
			large := confOperand{fmt.Sprintf("large[%d %d]", m, cols), c.base(dt, kWide, m, cols).Mul(333), nil}
			gs := []confOperand{
				confPlain(c.base(dt, kAny, m)),
				{fmt.Sprintf("broadcast[%d]", m), c.base(dt, kAny, 1), func(x *tensor.Tensor) *tensor.Tensor { return x.Expand(m) }},
			}
			for i, x := range append(xs, large) {
				lab := labels(m, cols, 1+i%2)
				c.check("CrossEntropy", confRedAbs, forward, x, lab)
				// With logits near 1e4 one float32 ulp of lse is 1e-3, and
				// the devices may round lse apart by that much: e^(x-lse)
				// then differs by a relative 1e-3.
				tl := confRedAbs
				if x.desc == large.desc && dt == tensor.Float32 {
					tl = confTol{2e-3, 3}
				}
				for _, g := range gs {
					c.check("CrossEntropyBackward", tl, backward, x, lab, g)
				}
			}
		}
		special := tensor.FromSlice([]float64{
			1, 2, 3, 4,
			1, math.NaN(), 3, 4,
			math.Inf(-1), math.Inf(-1), math.Inf(-1), math.Inf(-1),
			math.Inf(-1), 0, 1, math.Inf(-1),
			1, math.Inf(1), 2, 3,
			math.Inf(1), 1, math.Inf(1), 2,
		}, 6, 4).As(dt)
		sl := confPlain(tensor.FromSlice([]int64{3, 0, 1, 2, 0, 1}))
		c.check("CrossEntropy/special", confRedAbs, forward, confPlain(special), sl)
		c.check("CrossEntropyBackward/special", confRedAbs, backward, confPlain(special), sl, confPlain(c.base(dt, kAny, 6)))
		c.check("CrossEntropy/empty", confRedAbs, forward, confPlain(c.base(dt, kAny, 0, 7)), confPlain(tensor.Of(tensor.Int64).Zeros(0)))
		c.check("CrossEntropyBackward/empty", confRedAbs, backward, confPlain(c.base(dt, kAny, 0, 7)), confPlain(tensor.Of(tensor.Int64).Zeros(0)), confPlain(c.base(dt, kAny, 0)))
		// A bad label fails on both devices (on a GPU when the result is read).
		x := confPlain(c.base(dt, kAny, 3, 10))
		for _, bad := range []int64{10, -1} {
			lab := confPlain(tensor.FromSlice([]int64{0, bad, 9}))
			c.check(fmt.Sprintf("CrossEntropy/label%d", bad), confRedAbs, forward, x, lab)
			c.check(fmt.Sprintf("CrossEntropyBackward/label%d", bad), confRedAbs, func(v ...*tensor.Tensor) *tensor.Tensor {
				lse := v[0].LogSumExp(1) // the forward would fail first
				return tensorOps.CrossEntropyBackward(v[0], lse, v[1], v[2])
			}, x, lab, confPlain(c.base(dt, kAny, 3)))
		}
	}
	// The device keeps working after a reported bad label.
	c.check("CrossEntropy/after", confRedAbs, forward, confPlain(c.base(tensor.Float32, kAny, 33, 10)), labels(33, 10, 1))
}
