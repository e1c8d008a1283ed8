package tensor_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/tensor"
)

// activation compares the fused training primitives of activations with
// the CPU's: dropout exactly (the device must draw the CPU's mask bit for
// bit, or the backward pass of a model trained on one device would not
// match its forward pass on the other), and the one-pass activation
// gradients within 1e-5 (the selections exactly), on contiguous, strided,
// transposed and broadcast operands, odd sizes, empty and 0-d tensors,
// NaN and infinities.
func (c *conf) activation(t *testing.T) {
	c.t = t
	floats := []tensor.DType{tensor.Float32, tensor.Float64}
	shapes := [][]int{{1}, {7}, {4097}, {33, 7}, {7, 33}, {1000, 33}}

	for _, dt := range floats {
		for _, p := range []float64{0.1, 0.5, 0.9} {
			for si, shape := range shapes {
				for li, o := range c.layouts(dt, kAny, shape...) {
					seed, offset := uint64(1000*si+li+1), uint64(si*li)<<20
					c.check(fmt.Sprintf("DropoutWith(p=%v)", p), confExact, func(v ...*tensor.Tensor) *tensor.Tensor {
						return tensorOps.DropoutWith(v[0], p, seed, offset)
					}, o)
				}
			}
			// Counters whose low word carries into the high one mid-tensor.
			c.check("DropoutWith/carry", confExact, func(v ...*tensor.Tensor) *tensor.Tensor {
				return tensorOps.DropoutWith(v[0], p, 77, 1<<32-100)
			}, c.layouts(dt, kAny, 33, 7)[1])
			// Drawn from a generator: both devices draw the same counters.
			c.check("Dropout/generator", confExact, func(v ...*tensor.Tensor) *tensor.Tensor {
				y, _, _ := tensorOps.Dropout(v[0], p, tensor.NewGenerator(123))
				return y
			}, confPlain(c.base(dt, kAny, 64, 257)))
		}
		special := tensor.FromSlice([]float64{math.NaN(), math.Inf(1), math.Inf(-1), -0.5, 2, math.NaN(), -3, 0.25, math.Inf(1)}).As(dt)
		c.check("DropoutWith/special", confExact, func(v ...*tensor.Tensor) *tensor.Tensor {
			return tensorOps.DropoutWith(v[0], 0.5, 3, 4)
		}, confPlain(special))
		c.check("DropoutWith/empty", confExact, func(v ...*tensor.Tensor) *tensor.Tensor {
			return tensorOps.DropoutWith(v[0], 0.5, 3, 4)
		}, confPlain(c.base(dt, kAny, 0, 5)))
		c.check("DropoutWith/0d", confExact, func(v ...*tensor.Tensor) *tensor.Tensor {
			return tensorOps.DropoutWith(v[0], 0.5, 3, 4)
		}, confPlain(c.base(dt, kAny).Reshape()))
	}
	c.check("DropoutWith/int64", confExact, func(v ...*tensor.Tensor) *tensor.Tensor {
		return tensorOps.DropoutWith(v[0], 0.5, 3, 4)
	}, confPlain(c.base(tensor.Int64, kInts, 7)))

	type grad struct {
		name        string
		op          device.UnaryOp
		alpha, beta float64
		k           confKind
		tl          confTol
	}
	grads := []grad{
		{"Relu", device.Relu, 0, 0, kAny, confExact},
		{"LeakyRelu", device.LeakyRelu, 0.01, 0, kAny, confExact},
		{"LeakyRelu/negative", device.LeakyRelu, -0.2, 0, kAny, confExact},
		{"Threshold", device.Threshold, 0.5, -2, kAny, confExact},
		{"Clamp", device.Clamp, -1, 2, kAny, confExact},
		{"Sigmoid", device.Sigmoid, 0, 0, kWide, confElem},
		{"Tanh", device.Tanh, 0, 0, kAny, confElem},
		{"Elu", device.Elu, 1.5, 0, kAny, confElem},
		{"Softplus", device.Softplus, 0, 0, kWide, confElem},
		// Φ(x) + x·φ(x) crosses zero near x = -0.75.
		{"Gelu", device.Gelu, 0, 0, kWide, confElemAbs},
	}
	// operand turns a random input into what op's gradient reads: the
	// input itself, or the forward output computed once on the CPU so
	// that every device is given the same values.
	operand := func(gr grad, x *tensor.Tensor) *tensor.Tensor {
		if gr.op.BackwardOperand() == device.FromInput {
			return x
		}
		switch gr.op {
		case device.Sigmoid:
			return x.Sigmoid()
		case device.Tanh:
			return x.Tanh()
		}
		return x.Elu(gr.alpha)
	}
	for _, gr := range grads {
		f := func(v ...*tensor.Tensor) *tensor.Tensor {
			return tensorOps.ActivationGrad(gr.op, v[0], v[1], gr.alpha, gr.beta)
		}
		name := "ActivationGrad/" + gr.name
		for _, dt := range floats {
			for _, shape := range shapes {
				gs, as := c.layouts(dt, kAny, shape...), c.layouts(dt, gr.k, shape...)
				for i, g := range gs {
					a := as[(i+1)%len(as)]
					a.base = operand(gr, a.base)
					c.check(name, gr.tl, f, g, a)
				}
			}
			special := tensor.FromSlice([]float64{math.NaN(), math.Inf(1), math.Inf(-1), -0.5, 2, math.NaN(), -3, 0.25, math.Inf(1)}).As(dt)
			specialG := tensor.FromSlice([]float64{1, math.NaN(), 2, math.Inf(-1), 0.5, 3, math.Inf(1), -0.0, 0.5}).As(dt)
			c.check(name+"/special", confElemAbs, f, confPlain(specialG), confPlain(operand(gr, special)))
		}
		c.check(name+"/empty", confElem, f, confPlain(c.base(tensor.Float32, kAny, 0, 5)), confPlain(c.base(tensor.Float32, kAny, 0, 5)))
		c.check(name+"/0d", gr.tl, f, confPlain(c.base(tensor.Float32, kAny).Reshape()), confPlain(operand(gr, c.base(tensor.Float32, gr.k).Reshape())))
	}
	// Refused on every device alike.
	c.check("ActivationGrad/exp", confExact, func(v ...*tensor.Tensor) *tensor.Tensor {
		return tensorOps.ActivationGrad(device.Exp, v[0], v[0], 0, 0)
	}, confPlain(c.base(tensor.Float32, kAny, 7)))
}
