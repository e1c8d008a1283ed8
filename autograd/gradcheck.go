package autograd

import (
	"fmt"
	"math"

	"github.com/nabla-go/nabla/tensor"
)

// GradCheckConfig sets the finite-difference step and the tolerances of a
// gradient check: an analytic gradient a passes against the numeric n when
// |a-n| <= Atol + Rtol*|n|.
type GradCheckConfig struct {
	Eps, Atol, Rtol float64
}

// DefaultGradCheck holds PyTorch's gradcheck defaults.
var DefaultGradCheck = GradCheckConfig{Eps: 1e-6, Atol: 1e-5, Rtol: 1e-3}

// GradCheck compares the gradients Backward computes for f at inputs with
// central differences, using DefaultGradCheck. Inputs must be Float64 CPU
// tensors; f must be deterministic. A non-scalar output is reduced with
// fixed random weights, which checks every output element's gradient.
func GradCheck(f func(xs []*Var) *Var, inputs ...*tensor.Tensor) error {
	return DefaultGradCheck.Check(f, inputs...)
}

// Check runs the gradient check with c's step and tolerances.
func (c GradCheckConfig) Check(f func(xs []*Var) *Var, inputs ...*tensor.Tensor) error {
	for i, x := range inputs {
		if x.DType() != tensor.Float64 || !x.Device().IsCPU() {
			return fmt.Errorf("autograd: GradCheck: input %d is %v on %v; finite differences need Float64 CPU tensors", i, x.DType(), x.Device())
		}
	}
	var weights *tensor.Tensor
	loss := func(xs []*Var) *Var {
		out := f(xs)
		if out.Numel() == 1 {
			return out.Sum()
		}
		if weights == nil {
			gen := tensor.NewGenerator(0x9e3779b97f4a7c15)
			weights = tensor.Of(tensor.Float64).WithGenerator(gen).Uniform(0.5, 1.5, out.Shape()...)
		}
		return out.Mul(weights).Sum()
	}

	params := make([]*Var, len(inputs))
	for i, x := range inputs {
		params[i] = Param(x.Clone())
	}
	loss(params).Backward()

	for i, x := range inputs {
		base := x.Contiguous().Float64s()
		var analytic []float64
		if g := params[i].Grad(); g != nil {
			analytic = g.Contiguous().Float64s()
		} else {
			analytic = make([]float64, len(base))
		}
		shape := x.Shape()
		eval := func(j int, delta float64) float64 {
			vals := append([]float64(nil), base...)
			vals[j] += delta
			xs := make([]*Var, len(inputs))
			for k, in := range inputs {
				xs[k] = Const(in)
			}
			xs[i] = Const(tensor.FromSlice(vals).Reshape(shape...))
			var out float64
			NoGrad(func() { out = loss(xs).Item() })
			return out
		}
		for j := range base {
			numeric := (eval(j, c.Eps) - eval(j, -c.Eps)) / (2 * c.Eps)
			if diff := math.Abs(analytic[j] - numeric); !(diff <= c.Atol+c.Rtol*math.Abs(numeric)) {
				return fmt.Errorf("autograd: GradCheck: input %d element %d: analytic gradient %.8g, numeric %.8g (difference %.3g)",
					i, j, analytic[j], numeric, diff)
			}
		}
	}
	return nil
}
