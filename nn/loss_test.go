package nn_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// TestBCELossDomain: BCELoss takes probabilities. PyTorch raises "all
// elements of input should be between 0 and 1" for anything else (NaN
// included); nabla used to return NaN.
func TestBCELossDomain(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, c := range []struct {
		name  string
		input []float32
		bad   string // "" when the input is valid
	}{
		{"probabilities", []float32{0, 0.25, 1, float32(math.Copysign(0, -1))}, ""},
		{"above 1", []float32{0.5, 1.5, 0, 1}, "element 1 (of shape [2 2]) is 1.5"},
		{"below 0", []float32{-0.1, 0.5, 0.5, 0.5}, "element 0 (of shape [2 2]) is -0.10000000149011612"},
		{"NaN", []float32{0.5, 0.5, 0.5, float32(nan)}, "element 3 (of shape [2 2]) is NaN"},
		{"infinite", []float32{0.5, float32(inf), 0.5, 0.5}, "is +Inf"},
	} {
		for _, r := range []nn.Reduction{nn.Mean, nn.Sum, nn.None} {
			t.Run(c.name, func(t *testing.T) {
				x := autograd.Param(tensor.FromSlice(c.input, 2, 2))
				y := autograd.Const(tensor.Full(0.5, 2, 2))
				err := tensor.Catch(func() { nn.BCELoss(r)(x, y) })
				if c.bad == "" {
					require.NoError(t, err)
					return
				}
				require.ErrorIs(t, err, tensor.ErrArgument)
				require.ErrorContains(t, err, "tensor: BCELoss: all elements of input should be between 0 and 1")
				require.ErrorContains(t, err, c.bad)
			})
		}
	}
	// Empty input: nothing to check, a NaN mean as in PyTorch.
	require.NoError(t, tensor.Catch(func() {
		nn.BCELoss(nn.Sum)(autograd.Const(tensor.Zeros(0)), autograd.Const(tensor.Zeros(0)))
	}))
}
