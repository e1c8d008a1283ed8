package nn_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// The four inputs of a two-input logic gate, and the truth tables.
var (
	gateInputs = [][2]float32{{0, 0}, {0, 1}, {1, 0}, {1, 1}}
	gates      = map[string][4]float32{
		"AND":  {0, 0, 0, 1},
		"OR":   {0, 1, 1, 1},
		"NAND": {1, 1, 1, 0},
		"XOR":  {0, 1, 1, 0},
	}
)

// trainPerceptron trains Rosenblatt's perceptron, a Linear(2, 1) layer
// followed by Step, with the perceptron learning rule
//
//	w += lr·(y - ŷ)·x,  b += lr·(y - ŷ)
//
// one example at a time, for at most maxEpochs passes. It returns the
// epoch after which a pass made no mistake (-1 if none did) and the model.
// The rule, not backpropagation, trains it: Step has no gradient.
func trainPerceptron(target [4]float32, maxEpochs int) (int, *nn.SequentialModule) {
	tensor.ManualSeed(1)
	lin := nn.Linear(2, 1)
	model := nn.Sequential(lin, nn.Step())
	const lr = 0.1
	for epoch := range maxEpochs {
		mistakes := 0
		for k, in := range gateInputs {
			x := tensor.FromSlice(in[:], 1, 2)
			var yHat float64
			autograd.NoGrad(func() { yHat = model.Forward(autograd.Const(x)).Item() })
			delta := float64(target[k]) - yHat
			if delta == 0 {
				continue
			}
			mistakes++
			w, b := lin.Weight.Detach(), lin.Bias.Detach()
			w.CopyFrom(w.Add(x.Mul(lr * delta)))
			b.CopyFrom(b.Add(lr * delta))
		}
		if mistakes == 0 {
			return epoch, model
		}
	}
	return -1, model
}

func TestPerceptronLearnsLinearlySeparableGates(t *testing.T) {
	for _, name := range []string{"AND", "OR", "NAND"} {
		t.Run(name, func(t *testing.T) {
			epoch, model := trainPerceptron(gates[name], 100)
			// The perceptron convergence theorem: on separable data the rule
			// stops making mistakes after finitely many updates.
			require.GreaterOrEqual(t, epoch, 0, "%s did not converge", name)
			x := autograd.Const(tensor.FromSlice([]float32{0, 0, 0, 1, 1, 0, 1, 1}, 4, 2))
			got := model.Forward(x).Detach().Float32s()
			want := gates[name]
			require.Equal(t, want[:], got)
		})
	}
}

func TestPerceptronCannotLearnXOR(t *testing.T) {
	// Empirically: every one of 1000 passes makes a mistake (the weights
	// cycle forever). TestNoThresholdUnitComputesXOR proves it must be so.
	epoch, model := trainPerceptron(gates["XOR"], 1000)
	require.Equal(t, -1, epoch, "the perceptron claims to have learned XOR")
	x := autograd.Const(tensor.FromSlice([]float32{0, 0, 0, 1, 1, 0, 1, 1}, 4, 2))
	got := model.Forward(x).Detach().Float32s()
	want := gates["XOR"]
	require.NotEqual(t, want[:], got)
}

// constraint is one linear inequality c·θ > 0 (strict) or c·θ >= 0 on the
// parameters θ = (w1, w2, b) of a threshold unit.
type constraint struct {
	c      [3]int
	strict bool
}

// gateConstraints turns a truth table into the inequalities a threshold
// unit ŷ = [w1·x1 + w2·x2 + b > 0] (Step: 1 where the sum is > 0) must
// satisfy: with a = (x1, x2, 1), output 1 needs a·θ > 0, output 0 needs
// a·θ <= 0, that is (-a)·θ >= 0. With geq the unit fires at >= 0 instead,
// which flips which inequalities are strict.
func gateConstraints(target [4]float32, geq bool) []constraint {
	var cs []constraint
	for k, in := range gateInputs {
		a := [3]int{int(in[0]), int(in[1]), 1}
		if target[k] == 1 {
			cs = append(cs, constraint{a, !geq})
		} else {
			cs = append(cs, constraint{[3]int{-a[0], -a[1], -a[2]}, geq})
		}
	}
	return cs
}

// infeasible checks a certificate of infeasibility: non-negative
// multipliers λ with Σ λ_k·c_k = 0 where some strict inequality has
// λ_k > 0. Adding λ_k times each inequality then gives
// 0 = (Σ λ_k·c_k)·θ > 0 for every θ, a contradiction, so no parameters
// satisfy the system (the easy half of Motzkin's transposition theorem).
// Integer arithmetic makes the check exact.
func infeasible(cs []constraint, lambda []int) bool {
	var sum [3]int
	strictUsed := false
	for k, c := range cs {
		if lambda[k] < 0 {
			return false
		}
		for i := range sum {
			sum[i] += lambda[k] * c.c[i]
		}
		strictUsed = strictUsed || (c.strict && lambda[k] > 0)
	}
	return sum == [3]int{} && strictUsed
}

// TestNoThresholdUnitComputesXOR proves that no weights w1, w2 and bias b
// make a single threshold unit compute XOR. XOR needs
//
//	(0,0) -> 0:  b <= 0
//	(0,1) -> 1:  w2 + b > 0
//	(1,0) -> 1:  w1 + b > 0
//	(1,1) -> 0:  w1 + w2 + b <= 0
//
// Adding the two middle inequalities gives w1 + w2 + 2b > 0; adding the
// outer two gives w1 + w2 + 2b <= 0. Both cannot hold. In the terms of
// infeasible: the multipliers λ = (1, 1, 1, 1) sum the four constraints
// to the zero vector while using a strict one. The same holds whether the
// unit fires at > 0 or at >= 0, and for every real θ, not just a grid:
// XOR is not linearly separable, which is why it needs a hidden layer.
func TestNoThresholdUnitComputesXOR(t *testing.T) {
	for _, geq := range []bool{false, true} {
		cs := gateConstraints(gates["XOR"], geq)
		require.True(t, infeasible(cs, []int{1, 1, 1, 1}), "certificate for XOR (geq=%v)", geq)
	}
	// The certificate is not vacuous: the separable gates have no such
	// certificate with the same multipliers, and explicit weights solve
	// them (AND: x1 + x2 - 1.5, OR: x1 + x2 - 0.5, NAND: -x1 - x2 + 1.5).
	solutions := map[string][3]float64{"AND": {1, 1, -1.5}, "OR": {1, 1, -0.5}, "NAND": {-1, -1, 1.5}}
	for name, theta := range solutions {
		require.False(t, infeasible(gateConstraints(gates[name], false), []int{1, 1, 1, 1}), name)
		for k, in := range gateInputs {
			z := theta[0]*float64(in[0]) + theta[1]*float64(in[1]) + theta[2]
			out := float32(0)
			if z > 0 {
				out = 1
			}
			require.Equal(t, gates[name][k], out, "%s on %v", name, in)
		}
	}
	// And a brute-force sanity check over a grid of weights: none computes
	// XOR, while every separable gate has solutions on the grid.
	found := map[string]int{}
	for w1 := -4.0; w1 <= 4; w1 += 0.5 {
		for w2 := -4.0; w2 <= 4; w2 += 0.5 {
			for b := -4.0; b <= 4; b += 0.25 {
				for name, tt := range gates {
					ok := true
					for k, in := range gateInputs {
						z := w1*float64(in[0]) + w2*float64(in[1]) + b
						if (z > 0) != (tt[k] == 1) {
							ok = false
							break
						}
					}
					if ok {
						found[name]++
					}
				}
			}
		}
	}
	require.Zero(t, found["XOR"])
	for _, name := range []string{"AND", "OR", "NAND"} {
		require.Positive(t, found[name], name)
	}
}
