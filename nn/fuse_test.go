package nn_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/models"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// unfused runs the layers of s one after the other, as Sequential did
// before it fused Linear and activation pairs.
func unfused(s *nn.SequentialModule, x *autograd.Var) *autograd.Var {
	for _, m := range s.Layers() {
		x = m.Forward(x)
	}
	return x
}

// floatBits returns a tensor's elements as bits, so that -0 and every
// rounding difference count.
func floatBits(x *tensor.Tensor) []uint64 {
	v := x.As(tensor.Float64).Float64s()
	out := make([]uint64, len(v))
	for i, f := range v {
		out[i] = math.Float64bits(f)
	}
	return out
}

// TestSequentialFusionIsExact trains nothing: it runs forward and
// backward through models, once through Sequential (fused) and once layer
// by layer, and requires the same outputs and gradients bit for bit.
func TestSequentialFusionIsExact(t *testing.T) {
	type model struct {
		name  string
		make  func() *nn.SequentialModule
		input []int
	}
	allActs := func() *nn.SequentialModule {
		return nn.Sequential(
			nn.Linear(9, 8), nn.ReLU(),
			nn.Linear(8, 8), nn.LeakyReLU(0.1),
			nn.Linear(8, 8), nn.Sigmoid(),
			nn.Linear(8, 8), nn.Tanh(),
			nn.Linear(8, 8), nn.ELU(1),
			nn.Linear(8, 8), nn.GELU(),
			nn.Linear(8, 8, nn.NoBias()), nn.Softplus(),
			nn.Linear(8, 8), nn.LeakyReLU(-0.3),
			nn.Linear(8, 3),
		)
	}
	cases := []model{
		{"MLP", func() *nn.SequentialModule { return models.MLP(0).(*nn.SequentialModule) }, []int{16, 1, 28, 28}},
		{"MLP with dropout", func() *nn.SequentialModule { return models.MLP(0.3).(*nn.SequentialModule) }, []int{16, 1, 28, 28}},
		{"every activation", allActs, []int{2, 5, 9}},
	}
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		for _, m := range cases {
			name := fmt.Sprintf("%s/%v", m.name, dt)
			tensor.ManualSeed(5)
			s := m.make()
			nn.Cast(s, dt)
			x := tensor.Of(dt).WithGenerator(tensor.NewGenerator(6)).Randn(m.input...)
			run := func(forward func(*nn.SequentialModule, *autograd.Var) *autograd.Var) (*tensor.Tensor, [][]uint64) {
				nn.ZeroGrad(s)
				tensor.ManualSeed(7) // the same dropout masks in both runs
				y := forward(s, autograd.Const(x))
				y.Square().Sum().Backward()
				var grads [][]uint64
				for _, p := range s.Parameters() {
					require.NotNil(t, p.Grad(), name)
					grads = append(grads, floatBits(p.Grad()))
				}
				return y.Detach(), grads
			}
			wantOut, wantGrads := run(unfused)
			gotOut, gotGrads := run((*nn.SequentialModule).Forward)
			require.Equal(t, floatBits(wantOut), floatBits(gotOut), "%s: output", name)
			for i := range wantGrads {
				require.Equal(t, wantGrads[i], gotGrads[i], "%s: gradient of parameter %d", name, i)
			}
		}
	}
}

// gradFn returns the name of the operation that produced v, from its
// printout ("grad_fn=<LinearActivationBackward>").
func gradFn(v *autograd.Var) string {
	s := v.String()
	i := strings.Index(s, "grad_fn=<")
	if i < 0 {
		return ""
	}
	return strings.TrimSuffix(s[i+len("grad_fn=<"):], ">)")
}

// embeddedLinear is a user's layer built on LinearModule: its Forward
// could do anything, so Sequential must not fuse it.
type embeddedLinear struct{ *nn.LinearModule }

func TestSequentialFusesOnlyBuiltInPairs(t *testing.T) {
	x := autograd.Const(tensor.Randn(3, 4))
	cases := []struct {
		name string
		s    *nn.SequentialModule
		want string
	}{
		{"Linear+ReLU", nn.Sequential(nn.Linear(4, 2), nn.ReLU()), "LinearActivationBackward"},
		{"Linear+GELU", nn.Sequential(nn.Linear(4, 2), nn.GELU()), "LinearActivationBackward"},
		{"user activation", nn.Sequential(nn.Linear(4, 2), nn.Func("MyReLU()", (*autograd.Var).Relu)), "ReluBackward"},
		{"user linear", nn.Sequential(embeddedLinear{nn.Linear(4, 2)}, nn.ReLU()), "ReluBackward"},
		{"activation first", nn.Sequential(nn.ReLU(), nn.Linear(4, 2)), "LinearBackward"},
		{"Linear alone", nn.Sequential(nn.Linear(4, 2)), "LinearBackward"},
		{"not an activation", nn.Sequential(nn.Linear(4, 2), nn.Softmax(1)), "SoftmaxBackward"},
	}
	for _, c := range cases {
		require.Equal(t, c.want, gradFn(c.s.Forward(x)), c.name)
	}
}

// TestSequentialFusionKeepsTheModule: fusion is an execution detail; the
// layers, names, state and printout are those of the modules given.
func TestSequentialFusionKeepsTheModule(t *testing.T) {
	s := nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1), nn.Sigmoid())
	require.Equal(t, 4, s.Len())
	var names []string
	for _, p := range s.NamedParameters() {
		names = append(names, p.Name)
	}
	require.Equal(t, []string{"0.weight", "0.bias", "2.weight", "2.bias"}, names)
	require.Equal(t, "Sequential(\n"+
		"  (0): Linear(in_features=3, out_features=2, bias=True)\n"+
		"  (1): ReLU()\n"+
		"  (2): Linear(in_features=2, out_features=1, bias=True)\n"+
		"  (3): Sigmoid()\n)", s.String())
}

// TestSequentialReluPoolSwapIsExact: Sequential runs a ReLU followed by max
// pooling as pooling then ReLU. On inputs full of ties, zeros (of both
// signs) and all-negative windows, with overlapping and padded windows, the
// output, the input gradient and the parameter gradients must equal those
// of the layers run in their written order, bit for bit.
func TestSequentialReluPoolSwapIsExact(t *testing.T) {
	cases := []struct {
		name  string
		make  func() *nn.SequentialModule
		input []int
	}{
		{"2x2", func() *nn.SequentialModule { return nn.Sequential(nn.ReLU(), nn.MaxPool2d(2, 2)) }, []int{3, 4, 8, 9}},
		{"3x3 stride 1 padded", func() *nn.SequentialModule {
			return nn.Sequential(nn.ReLU(), nn.MaxPool2d(3, 1, nn.Padding(1)))
		}, []int{2, 3, 7, 6}},
		{"3x3 stride 2", func() *nn.SequentialModule { return nn.Sequential(nn.ReLU(), nn.MaxPool2d(3, 2)) }, []int{2, 3, 9, 8}},
		{"conv blocks", func() *nn.SequentialModule {
			return nn.Sequential(nn.Conv2d(2, 4, 3, nn.Padding(1)), nn.ReLU(), nn.MaxPool2d(2, 2),
				nn.Conv2d(4, 3, 3), nn.ReLU(), nn.MaxPool2d(2, 1, nn.Padding(1)))
		}, []int{2, 2, 10, 10}},
		{"CNN", func() *nn.SequentialModule { return models.CNN(0).(*nn.SequentialModule) }, []int{4, 1, 28, 28}},
	}
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		for _, c := range cases {
			name := fmt.Sprintf("%s/%v", c.name, dt)
			tensor.ManualSeed(11)
			s := c.make()
			nn.Cast(s, dt)
			// Multiples of a half: many ties and exact zeros, and -0
			// where Round took a small negative value to zero.
			x := tensor.Of(dt).WithGenerator(tensor.NewGenerator(12)).Randn(c.input...).Mul(2.0).Round().Mul(0.5)
			run := func(forward func(*nn.SequentialModule, *autograd.Var) *autograd.Var) ([][]uint64, string) {
				nn.ZeroGrad(s)
				xv := autograd.Param(x.Clone())
				y := forward(s, xv)
				y.Square().Sum().Backward()
				out := [][]uint64{floatBits(y.Detach()), floatBits(xv.Grad())}
				for _, p := range s.Parameters() {
					out = append(out, floatBits(p.Grad()))
				}
				return out, gradFn(y)
			}
			want, _ := run(unfused)
			got, fn := run((*nn.SequentialModule).Forward)
			require.Equal(t, len(want), len(got), name)
			for i := range want {
				require.Equal(t, want[i], got[i], "%s: result %d (output, input gradient, parameter gradients)", name, i)
			}
			if c.name != "CNN" && c.name != "conv blocks" {
				require.Equal(t, "ReluBackward", fn, name)
			}
		}
	}
}
