package autograd

import (
	"math"
	"slices"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/tensor"
)

// Every gradient rule of the package, one small function per operation.
// A rule receives what the forward pass saved and returns, for the
// upstream gradient g, the gradient of each input in order.

// sumTo reduces a broadcast gradient back to shape, summing over the
// dimensions that broadcasting added or stretched.
func sumTo(g *tensor.Tensor, shape []int) *tensor.Tensor {
	gs := g.Shape()
	if slices.Equal(gs, shape) {
		return g
	}
	lead := len(gs) - len(shape)
	var dims []int
	for i := range gs {
		if i < lead || (shape[i-lead] == 1 && gs[i] != 1) {
			dims = append(dims, i)
		}
	}
	if len(dims) == 0 {
		return g.Reshape(shape...)
	}
	return g.Sum(dims...).Reshape(shape...)
}

func addRule(as, bs []int) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor { return pair(sumTo(g, as), sumTo(g, bs)) }
}

func subRule(as, bs []int) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor { return pair(sumTo(g, as), sumTo(g.Neg(), bs)) }
}

func mulRule(a, b *tensor.Tensor) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		return pair(sumTo(g.Mul(b), a.Shape()), sumTo(g.Mul(a), b.Shape()))
	}
}

func divRule(a, b *tensor.Tensor) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		ga := g.Div(b)
		return pair(sumTo(ga, a.Shape()), sumTo(ga.Mul(a).Div(b).Neg(), b.Shape()))
	}
}

func powRule(a, b, out *tensor.Tensor) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		ga := g.Mul(b).Mul(a.Pow(b.Sub(1)))
		// d(a^b)/db = a^b·ln a; where a == 0 PyTorch defines it as 0.
		gb := tensor.Where(a.Eq(0), 0.0, g.Mul(out).Mul(a.Log()))
		return pair(sumTo(ga, a.Shape()), sumTo(gb, b.Shape()))
	}
}

func scaleRule(s float64) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor { return one(g.Mul(s)) }
}

func identityRule(g *tensor.Tensor) []*tensor.Tensor { return one(g) }

func powScalarRule(a *tensor.Tensor, p float64) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor { return one(g.Mul(a.Pow(p - 1)).Mul(p)) }
}

func expRule(out *tensor.Tensor) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor { return one(g.Mul(out)) }
}

func logRule(a *tensor.Tensor) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor { return one(g.Div(a)) }
}

func sqrtRule(out *tensor.Tensor) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor { return one(g.Div(out).Mul(0.5)) }
}

func absRule(a *tensor.Tensor) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor { return one(g.Mul(a.Sign())) }
}

func squareRule(a *tensor.Tensor) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor { return one(g.Mul(a).Mul(2)) }
}

// activationRule is the gradient of the activation op computed in one
// fused pass (prim's ActivationGrad) from a: the forward input or output,
// whichever op's gradient reads.
func activationRule(op device.UnaryOp, a *tensor.Tensor, alpha, beta float64) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor { return one(tensorOps.ActivationGrad(op, g, a, alpha, beta)) }
}

func sigmoidRule(out *tensor.Tensor) rule { return activationRule(device.Sigmoid, out, 0, 0) }

func tanhRule(out *tensor.Tensor) rule { return activationRule(device.Tanh, out, 0, 0) }

// leakyReluRule: a is the input or, when slope >= 0, the output, which is
// positive exactly where the input is.
func leakyReluRule(a *tensor.Tensor, slope float64) rule {
	return activationRule(device.LeakyRelu, a, slope, 0)
}

// eluRule computes the gradient from the output, g·(out+alpha) = g·alpha·e^a
// where out <= 0. A negative alpha makes the output positive for some
// negative inputs, so then the input a decides the branch, with
// elementwise ops; a may be nil when alpha >= 0.
func eluRule(a, out *tensor.Tensor, alpha float64) rule {
	if alpha >= 0 {
		return activationRule(device.Elu, out, alpha, 0)
	}
	return func(g *tensor.Tensor) []*tensor.Tensor {
		return one(tensor.Where(a.Gt(0.0), g, g.Mul(out.Add(alpha))))
	}
}

func softplusRule(a *tensor.Tensor) rule { return activationRule(device.Softplus, a, 0, 0) }

func geluRule(a *tensor.Tensor) rule { return activationRule(device.Gelu, a, 0, 0) }

// stepRule refuses: the Heaviside step has no useful gradient, which is
// why the perceptron learning rule, not backpropagation, trains it.
func stepRule(g *tensor.Tensor) []*tensor.Tensor {
	panic(&tensor.Error{Op: "Step.Backward", Kind: tensor.ErrArgument,
		Msg: "the step function has no gradient (it is zero almost everywhere); use Sigmoid or another smooth activation to train with backpropagation"})
}

// minMaxRule routes g to whichever operand was chosen, splitting ties
// evenly, as torch.maximum/minimum do.
func minMaxRule(a, b, out *tensor.Tensor) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		shape := out.Shape()
		aw := a.Expand(shape...).Eq(out).As(g.DType())
		bw := b.Expand(shape...).Eq(out).As(g.DType())
		total := aw.Add(bw)
		return pair(sumTo(g.Mul(aw).Div(total), a.Shape()), sumTo(g.Mul(bw).Div(total), b.Shape()))
	}
}

// unreduce reshapes the gradient of a reduction back to the input's rank
// (size 1 in the reduced dims) and broadcasts it over the input shape.
func unreduce(g *tensor.Tensor, inShape []int, dims []int, keepDim bool) *tensor.Tensor {
	if !keepDim {
		kept := slices.Clone(inShape)
		for _, d := range dims {
			kept[d] = 1
		}
		g = g.Reshape(kept...)
	}
	return g.Expand(inShape...)
}

func sumRule(inShape, dims []int, keepDim bool) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor { return one(unreduce(g, inShape, dims, keepDim)) }
}

func meanRule(inShape, dims []int, keepDim bool) rule {
	n := 1
	for _, d := range dims {
		n *= inShape[d]
	}
	return func(g *tensor.Tensor) []*tensor.Tensor {
		return one(unreduce(g, inShape, dims, keepDim).Mul(1 / float64(n)))
	}
}

// extremeRule spreads g evenly over the elements equal to the extreme
// value (torch.amax/amin semantics).
func extremeRule(a, out *tensor.Tensor, dims []int, keepDim bool) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		inShape := a.Shape()
		mask := a.Eq(unreduce(out, inShape, dims, keepDim)).As(g.DType())
		count := mask.SumKeepDim(dims...)
		return one(unreduce(g, inShape, dims, keepDim).Mul(mask).Div(count))
	}
}

func logSumExpRule(a, out *tensor.Tensor, dims []int, keepDim bool) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		inShape := a.Shape()
		p := a.Sub(unreduce(out, inShape, dims, keepDim)).Exp()
		return one(unreduce(g, inShape, dims, keepDim).Mul(p))
	}
}

func varRule(a *tensor.Tensor, dims []int, correction int, keepDim bool) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		inShape := a.Shape()
		n := 1
		for _, d := range dims {
			n *= inShape[d]
		}
		centered := a.Sub(a.MeanKeepDim(dims...))
		return one(unreduce(g, inShape, dims, keepDim).Mul(centered).Mul(2 / float64(n-correction)))
	}
}

func softmaxRule(out *tensor.Tensor, dim int) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		return one(out.Mul(g.Sub(g.Mul(out).SumKeepDim(dim))))
	}
}

func logSoftmaxRule(out *tensor.Tensor, dim int) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		return one(g.Sub(out.Exp().Mul(g.SumKeepDim(dim))))
	}
}

// matmulRule handles operands of rank 2 or more (1-D operands are
// reshaped by the forward pass): dA = g·Bᵀ, dB = Aᵀ·g, summed over
// broadcast batch dimensions.
func matmulRule(a, b *tensor.Tensor) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		return pair(sumTo(g.MatMul(b.T()), a.Shape()), sumTo(a.T().MatMul(g), b.Shape()))
	}
}

func reshapeRule(inShape []int) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor { return one(g.Reshape(inShape...)) }
}

func transposeRule(d0, d1 int) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor { return one(g.Transpose(d0, d1)) }
}

func permuteRule(dims []int) rule {
	inverse := make([]int, len(dims))
	for i, d := range dims {
		inverse[d] = i
	}
	return func(g *tensor.Tensor) []*tensor.Tensor { return one(g.Permute(inverse...)) }
}

func expandRule(inShape []int) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor { return one(sumTo(g, inShape)) }
}

// placeRule puts g into a zero tensor of the input's shape at the region
// the forward view selected (Narrow, Slice, Select).
func placeRule(a *tensor.Tensor, region func(*tensor.Tensor) *tensor.Tensor) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		z := tensor.ZerosLike(a)
		region(z).CopyFrom(g)
		return one(z)
	}
}

func catRule(sizes []int, dim int) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor { return g.SplitSizes(sizes, dim) }
}

func indexSelectRule(a, idx *tensor.Tensor, dim int) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		return one(tensor.ZerosLike(a).IndexAdd(dim, idx, g))
	}
}

func gatherRule(a, idx *tensor.Tensor, dim int) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		return one(tensor.ZerosLike(a).ScatterAdd(dim, idx, g))
	}
}

func whereRule(cond *tensor.Tensor, as, bs []int) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		return pair(sumTo(tensor.Where(cond, g, 0.0), as), sumTo(tensor.Where(cond, 0.0, g), bs))
	}
}

func castRule(dt tensor.DType) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor { return one(g.As(dt)) }
}

func one(g *tensor.Tensor) []*tensor.Tensor     { return []*tensor.Tensor{g} }
func pair(a, b *tensor.Tensor) []*tensor.Tensor { return []*tensor.Tensor{a, b} }

func sinRule(a *tensor.Tensor) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor { return one(g.Mul(a.Cos())) }
}

func cosRule(a *tensor.Tensor) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor { return one(g.Mul(a.Sin()).Neg()) }
}

func log1pRule(a *tensor.Tensor) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor { return one(g.Div(a.Add(1.0))) }
}

// cumSumRule: out[i] = Σ_{j<=i} x[j], so dx[j] = Σ_{i>=j} g[i], the
// running sum of g from the far end.
func cumSumRule(dim int) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		if g.Dim() == 0 {
			return one(g)
		}
		return one(g.Flip(dim).CumSum(dim).Flip(dim))
	}
}

func flipRule(dims []int) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		if g.Dim() == 0 {
			return one(g)
		}
		return one(g.Flip(dims...))
	}
}

// repeatRule sums the gradient over the copies: viewed as [r0, s0, r1,
// s1, ...] it is summed over the r dimensions.
func repeatRule(inShape, repeats []int) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		lead := len(repeats) - len(inShape)
		var split []int
		var dims []int
		for i, r := range repeats {
			s := 1
			if i >= lead {
				s = inShape[i-lead]
			}
			dims = append(dims, len(split))
			split = append(split, r, s)
		}
		return one(g.Reshape(split...).Sum(dims...).Reshape(inShape...))
	}
}

// normRule is the gradient of the p-norm n of a over dims, as PyTorch's
// norm_backward computes it: g·sgn(a)·|a|^(p-1)/n^(p-1) (a·g/n for p =
// 2), zero where n is zero; for p = ±Inf, g·sgn(a) shared evenly among
// the elements whose magnitude is n; zero for p = 0.
func normRule(a, n *tensor.Tensor, p float64, dims []int, keep bool) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		shape := a.Shape()
		gu, nu := unreduce(g, shape, dims, keep), unreduce(n, shape, dims, keep)
		switch {
		case p == 0:
			return one(tensor.ZerosLike(a))
		case p == 1:
			return one(gu.Mul(a.Sign()))
		case math.IsInf(p, 0):
			mask := a.Abs().Eq(nu).As(a.DType())
			count := unreduce(mask.Reduce(device.Sum, true, dims...), shape, dims, true)
			return one(gu.Mul(a.Sign()).Mul(mask).Div(count))
		case p == 2:
			return one(tensor.Where(nu.Eq(0), 0.0, gu.Mul(a).Div(nu)))
		}
		scaled := a.Sign().Mul(a.Abs().Pow(p - 1))
		if p < 1 {
			scaled = tensor.Where(a.Eq(0), 0.0, scaled)
		}
		return one(tensor.Where(nu.Eq(0), 0.0, gu.Mul(scaled).Div(nu.Pow(p-1))))
	}
}
