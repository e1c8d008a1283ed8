package autograd

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/tensor"
)

func randn(gen *tensor.Generator, shape ...int) *tensor.Tensor {
	return tensor.Of(tensor.Float64).WithGenerator(gen).Randn(shape...)
}

// positive returns values in [0.5, 2), safe for log, sqrt and division.
func positive(gen *tensor.Generator, shape ...int) *tensor.Tensor {
	return tensor.Of(tensor.Float64).WithGenerator(gen).Uniform(0.5, 2, shape...)
}

func TestGradCheckOps(t *testing.T) {
	type inputs func(g *tensor.Generator) []*tensor.Tensor
	two := func(a, b []int) inputs {
		return func(g *tensor.Generator) []*tensor.Tensor { return []*tensor.Tensor{randn(g, a...), randn(g, b...)} }
	}
	oneIn := func(shape ...int) inputs {
		return func(g *tensor.Generator) []*tensor.Tensor { return []*tensor.Tensor{randn(g, shape...)} }
	}
	pos := func(shape ...int) inputs {
		return func(g *tensor.Generator) []*tensor.Tensor { return []*tensor.Tensor{positive(g, shape...)} }
	}
	idx := tensor.FromSlice([]int64{2, 0, 2})
	gidx := tensor.FromSlice([]int64{0, 2, 1, 1, 0, 0}, 2, 3)
	mask := tensor.FromSlice([]bool{true, false, true, false, true, true}, 2, 3)
	cases := []struct {
		name string
		in   inputs
		f    func(x []*Var) *Var
	}{
		{"add", two([]int{2, 3}, []int{2, 3}), func(x []*Var) *Var { return x[0].Add(x[1]) }},
		{"add broadcast", two([]int{4, 1, 3}, []int{2, 1}), func(x []*Var) *Var { return x[0].Add(x[1]) }},
		{"add scalar", oneIn(3), func(x []*Var) *Var { return x[0].Add(2.5) }},
		{"sub broadcast", two([]int{3}, []int{2, 3}), func(x []*Var) *Var { return x[0].Sub(x[1]) }},
		{"rsub", oneIn(3), func(x []*Var) *Var { return x[0].RSub(1) }},
		{"mul broadcast", two([]int{2, 3}, []int{1, 3}), func(x []*Var) *Var { return x[0].Mul(x[1]) }},
		{"mul scalar", oneIn(2, 2), func(x []*Var) *Var { return x[0].Mul(-3) }},
		{"div", func(g *tensor.Generator) []*tensor.Tensor {
			return []*tensor.Tensor{randn(g, 2, 3), positive(g, 3)}
		}, func(x []*Var) *Var { return x[0].Div(x[1]) }},
		{"pow tensor", func(g *tensor.Generator) []*tensor.Tensor {
			return []*tensor.Tensor{positive(g, 2, 3), randn(g, 2, 3)}
		}, func(x []*Var) *Var { return x[0].Pow(x[1]) }},
		{"pow scalar", pos(4), func(x []*Var) *Var { return x[0].Pow(3.5) }},
		{"minimum", two([]int{2, 3}, []int{3}), func(x []*Var) *Var { return x[0].Minimum(x[1]) }},
		{"maximum", two([]int{2, 3}, []int{2, 3}), func(x []*Var) *Var { return x[0].Maximum(x[1]) }},
		{"neg", oneIn(3), func(x []*Var) *Var { return x[0].Neg() }},
		{"exp", oneIn(2, 3), func(x []*Var) *Var { return x[0].Exp() }},
		{"log", pos(2, 3), func(x []*Var) *Var { return x[0].Log() }},
		{"sqrt", pos(5), func(x []*Var) *Var { return x[0].Sqrt() }},
		{"abs", pos(5), func(x []*Var) *Var { return x[0].Neg().Abs() }},
		{"square", oneIn(5), func(x []*Var) *Var { return x[0].Square() }},
		{"sigmoid", oneIn(2, 3), func(x []*Var) *Var { return x[0].Sigmoid() }},
		{"tanh", oneIn(2, 3), func(x []*Var) *Var { return x[0].Tanh() }},
		{"relu", oneIn(3, 4), func(x []*Var) *Var { return x[0].Relu() }},
		{"leaky relu", oneIn(3, 4), func(x []*Var) *Var { return x[0].LeakyRelu(0.1) }},
		{"elu", oneIn(3, 4), func(x []*Var) *Var { return x[0].Elu(1.0) }},
		{"softplus", oneIn(3, 4), func(x []*Var) *Var { return x[0].Softplus() }},
		{"gelu", oneIn(3, 4), func(x []*Var) *Var { return x[0].Gelu() }},
		{"threshold", oneIn(3, 4), func(x []*Var) *Var { return x[0].Threshold(0.1, -2) }},
		{"clamp", oneIn(3, 4), func(x []*Var) *Var { return x[0].Clamp(-0.5, 0.5) }},
		{"sum all", oneIn(2, 3), func(x []*Var) *Var { return x[0].Sum() }},
		{"sum dims", oneIn(2, 3, 4), func(x []*Var) *Var { return x[0].Sum(0, 2) }},
		{"sum keepdim", oneIn(2, 3, 4), func(x []*Var) *Var { return x[0].SumKeepDim(-1) }},
		{"mean", oneIn(2, 3, 4), func(x []*Var) *Var { return x[0].Mean(1) }},
		{"mean keepdim", oneIn(2, 3), func(x []*Var) *Var { return x[0].MeanKeepDim(0) }},
		{"max", oneIn(3, 4), func(x []*Var) *Var { return x[0].Max(1) }},
		{"max keepdim", oneIn(3, 4), func(x []*Var) *Var { return x[0].MaxKeepDim(0) }},
		{"min all", oneIn(3, 4), func(x []*Var) *Var { return x[0].Min() }},
		{"logsumexp", oneIn(3, 4), func(x []*Var) *Var { return x[0].LogSumExp(1) }},
		{"var", oneIn(3, 4), func(x []*Var) *Var { return x[0].Var(1) }},
		{"var population", oneIn(3, 4), func(x []*Var) *Var { return x[0].VarCorrected(0, true, 0) }},
		{"std", oneIn(3, 4), func(x []*Var) *Var { return x[0].Std() }},
		{"softmax", oneIn(3, 4), func(x []*Var) *Var { return x[0].Softmax(1) }},
		{"softmax dim0", oneIn(3, 4), func(x []*Var) *Var { return x[0].Softmax(0) }},
		{"log softmax", oneIn(2, 5), func(x []*Var) *Var { return x[0].LogSoftmax(-1) }},
		{"matmul", two([]int{3, 4}, []int{4, 2}), func(x []*Var) *Var { return x[0].MatMul(x[1]) }},
		{"matmul transposed", two([]int{4, 3}, []int{2, 4}), func(x []*Var) *Var { return x[0].T().MatMul(x[1].T()) }},
		{"matmul batched broadcast", two([]int{2, 3, 4}, []int{4, 5}), func(x []*Var) *Var { return x[0].MatMul(x[1]) }},
		{"matmul vec-mat", two([]int{4}, []int{4, 3}), func(x []*Var) *Var { return x[0].MatMul(x[1]) }},
		{"matmul dot", two([]int{4}, []int{4}), func(x []*Var) *Var { return x[0].MatMul(x[1]) }},
		{"reshape", oneIn(2, 6), func(x []*Var) *Var { return x[0].Reshape(3, -1).Mul(x[0].Reshape(3, 4)) }},
		{"transpose", oneIn(2, 3), func(x []*Var) *Var { return x[0].Transpose(0, 1).Exp() }},
		{"permute", oneIn(2, 3, 4), func(x []*Var) *Var { return x[0].Permute(2, 0, 1).Sigmoid() }},
		{"squeeze unsqueeze", oneIn(3, 1), func(x []*Var) *Var { return x[0].Squeeze().Unsqueeze(0).Square() }},
		{"expand", oneIn(3, 1), func(x []*Var) *Var { return x[0].Expand(2, 3, 4).Square() }},
		{"narrow", oneIn(5, 3), func(x []*Var) *Var { return x[0].Narrow(0, 1, 3).Square() }},
		{"slice step", oneIn(7), func(x []*Var) *Var { return x[0].Slice(0, 1, 7, 2).Square() }},
		{"select", oneIn(3, 4), func(x []*Var) *Var { return x[0].Select(1, 2).Square() }},
		{"index select", oneIn(3, 4), func(x []*Var) *Var { return x[0].IndexSelect(0, idx).Square() }},
		{"gather", oneIn(2, 3), func(x []*Var) *Var { return x[0].Gather(1, gidx).Square() }},
		{"where", two([]int{2, 3}, []int{3}), func(x []*Var) *Var { return Where(mask, x[0], x[1]) }},
		{"masked fill", oneIn(2, 3), func(x []*Var) *Var { return x[0].MaskedFill(mask, 0).Square() }},
		{"cat", two([]int{2, 3}, []int{2, 2}), func(x []*Var) *Var { return Cat([]*Var{x[0], x[1], x[0]}, 1).Square() }},
		{"stack", two([]int{2, 3}, []int{2, 3}), func(x []*Var) *Var { return Stack([]*Var{x[0], x[1]}, -1).Exp() }},
		{"reused input", oneIn(3), func(x []*Var) *Var { return x[0].Mul(x[0]).Add(x[0].Exp()) }},
		{"cast", oneIn(3), func(x []*Var) *Var { return x[0].As(tensor.Float32).As(tensor.Float64).Square() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 2; seed++ {
				gen := tensor.NewGenerator(seed)
				cfg := DefaultGradCheck
				if tc.name == "cast" {
					cfg.Atol, cfg.Rtol = 1e-3, 1e-2 // float32 round trip
					cfg.Eps = 1e-3
				}
				require.NoError(t, cfg.Check(tc.f, tc.in(gen)...))
			}
		})
	}
}

func TestStepHasNoGradient(t *testing.T) {
	x := Param(tensor.FromSlice([]float64{-1, 2}))
	y := x.Step().Sum()
	err := tensor.Catch(func() { y.Backward() })
	require.ErrorContains(t, err, "step function has no gradient")
}
