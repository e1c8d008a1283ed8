package nn_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/pytest"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// Block and Net are user-defined modules built on nn.Base, nested, with
// the PyTorch twins in netPython.
type Block struct {
	nn.Base
	fc   *nn.LinearModule
	drop *nn.DropoutModule
}

func newBlock(in, out int) *Block {
	b := &Block{fc: nn.Linear(in, out), drop: nn.Dropout(0.25)}
	b.RegisterModule("fc", b.fc)
	b.RegisterModule("drop", b.drop)
	return b
}

func (b *Block) Forward(x *autograd.Var) *autograd.Var { return b.drop.Forward(b.fc.Forward(x).Relu()) }
func (b *Block) To(dev device.Device) nn.Module        { b.MoveTo(dev); return b }

type Net struct {
	nn.Base
	features *nn.SequentialModule
	block    *Block
	head     *nn.LinearModule
	scale    *autograd.Var
}

func newNet() *Net {
	n := &Net{
		features: nn.Sequential(nn.Conv2d(1, 4, 3, nn.Padding(1)), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2, 0), nn.Flatten()),
		block:    newBlock(4*4*4, 16),
		head:     nn.Linear(16, 3),
	}
	n.scale = n.RegisterParameter("scale", autograd.Param(tensor.Ones(1)))
	n.RegisterModule("features", n.features)
	n.RegisterModule("block", n.block)
	n.RegisterModule("head", n.head)
	return n
}

func (n *Net) Forward(x *autograd.Var) *autograd.Var {
	return n.head.Forward(n.block.Forward(n.features.Forward(x))).Mul(n.scale)
}
func (n *Net) To(dev device.Device) nn.Module { n.MoveTo(dev); return n }

const netPython = `
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.fc = nn.Linear(i, o)
        self.drop = nn.Dropout(0.25)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
        self.block = Block(4*4*4, 16)
        self.head = nn.Linear(16, 3)
print(Net())
print(nn.Sequential(Block(2, 3), nn.Tanh()))
`

const netRepr = `Net(
  (features): Sequential(
    (0): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    (1): BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    (2): ReLU()
    (3): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    (4): Flatten(start_dim=1, end_dim=-1)
  )
  (block): Block(
    (fc): Linear(in_features=64, out_features=16, bias=True)
    (drop): Dropout(p=0.25, inplace=False)
  )
  (head): Linear(in_features=16, out_features=3, bias=True)
)`

const seqRepr = `Sequential(
  (0): Block(
    (fc): Linear(in_features=2, out_features=3, bias=True)
    (drop): Dropout(p=0.25, inplace=False)
  )
  (1): Tanh()
)`

// bare implements Module without Base.
type bare struct{}

func (bare) Forward(x *autograd.Var) *autograd.Var { return x }
func (bare) Parameters() []*autograd.Var           { return nil }
func (bare) NamedParameters() []nn.NamedVar        { return nil }
func (bare) NamedBuffers() []nn.NamedVar           { return nil }
func (bare) Train()                                {}
func (bare) Eval()                                 {}
func (bare) Training() bool                        { return true }
func (b bare) To(device.Device) nn.Module          { return b }

// named defines String through nn.Repr, as Base's documentation suggests.
type named struct {
	nn.Base
}

func (m *named) Forward(x *autograd.Var) *autograd.Var { return x }
func (m *named) To(device.Device) nn.Module            { return m }
func (m *named) String() string                        { return nn.Repr(m) }

func TestRepr(t *testing.T) {
	require.Equal(t, netRepr, nn.Repr(newNet()))
	net := newNet()
	require.True(t, strings.HasPrefix(fmt.Sprint(net), "Module(\n  (features): Sequential(\n"),
		"before Repr, Base cannot name the type that embeds it:\n%v", net)
	require.Equal(t, netRepr[strings.Index(netRepr, "("):], fmt.Sprint(net)[strings.Index(fmt.Sprint(net), "("):])
	nn.Repr(net)
	require.Equal(t, netRepr, fmt.Sprint(net), "after Repr, String names it")
	require.Equal(t, seqRepr, fmt.Sprint(nn.Sequential(newBlock(2, 3), nn.Tanh())), "registered modules are named by their type")
	require.Equal(t, "Linear(in_features=2, out_features=3, bias=True)", nn.Repr(nn.Linear(2, 3)))
	require.Equal(t, "bare()", nn.Repr(bare{}))
	m := &named{}
	require.Equal(t, "named()", fmt.Sprint(m))
	m.RegisterModule("act", nn.ReLU())
	require.Equal(t, "named(\n  (act): ReLU()\n)", fmt.Sprint(m))
	require.Equal(t, "Sequential(\n  (0): named(\n    (act): ReLU()\n  )\n)", fmt.Sprint(nn.Sequential(m)))
}

// TestReprMatchesPyTorch prints the PyTorch twins of Net and of a
// Sequential holding a Block. Skipped without python3-torch.
func TestReprMatchesPyTorch(t *testing.T) {
	out := pytest.Run(t, "torch", netPython)
	require.Equal(t, netRepr+"\n"+seqRepr+"\n", out)
}

func TestSummary(t *testing.T) {
	net := newNet()
	s, err := nn.Summary(net, 2, 1, 8, 8)
	require.NoError(t, err)
	want := `Layer (type)             Output shape  Param #
==============================================
Net                      [2, 3]          1,140
  features (Sequential)  [2, 64]            48
    0 (Conv2d)           [2, 4, 8, 8]       40
    1 (BatchNorm2d)      [2, 4, 8, 8]        8
    2 (ReLU)             [2, 4, 8, 8]        0
    3 (MaxPool2d)        [2, 4, 4, 4]        0
    4 (Flatten)          [2, 64]             0
  block (Block)          -               1,040
    fc (Linear)          [2, 16]         1,040
    drop (Dropout)       [2, 16]             0
  head (Linear)          [2, 3]             51
==============================================
Total params: 1,140
Buffers (not trained): 9
Input shape: [2, 1, 8, 8]
Parameters and buffers: 0.00 MB`
	require.Equal(t, want, s)
	require.Equal(t, 1140, nn.NumParameters(net)) // 4·9+4 + 4+4 + 64·16+16 + 16·3+3 + 1
}

// TestSummaryLeavesTheModelAlone: the forward pass runs in evaluation
// mode without gradients; the training mode, BatchNorm's running
// statistics and the default generator are as before.
func TestSummaryLeavesTheModelAlone(t *testing.T) {
	net := newNet()
	state := tensor.DefaultGenerator().State()
	bn := net.features.At(1).(*nn.BatchNormModule)
	mean := bn.RunningMean.Detach().Clone()
	_, err := nn.Summary(net, 5, 1, 8, 8)
	require.NoError(t, err)
	require.True(t, net.Training())
	require.True(t, net.block.drop.Training())
	require.Equal(t, mean.Float32s(), bn.RunningMean.Detach().Float32s())
	require.Equal(t, 0.0, bn.NumBatchesTracked.Detach().Item())
	require.Equal(t, state, tensor.DefaultGenerator().State())
	for _, p := range net.Parameters() {
		require.Nil(t, p.Grad())
	}

	net.Eval()
	_, err = nn.Summary(net, 5, 1, 8, 8)
	require.NoError(t, err)
	require.False(t, net.Training(), "a model in evaluation mode stays there")
}

func TestSummaryOfSequential(t *testing.T) {
	m := nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
	s, err := nn.Summary(m, 64, 28, 28)
	require.NoError(t, err)
	for _, row := range []string{
		"Sequential     [64, 10]      101,770",
		"  0 (Flatten)  [64, 784]           0",
		"  1 (Linear)   [64, 128]     100,480",
		"  2 (ReLU)     [64, 128]           0", // fused with the Linear in training, traced apart here
		"  3 (Linear)   [64, 10]        1,290",
		"Total params: 101,770",
		"Parameters and buffers: 0.39 MB",
	} {
		require.Contains(t, s, row)
	}
}

func TestSummaryErrors(t *testing.T) {
	_, err := nn.Summary(nn.Linear(4, 2), 3, 5)
	require.ErrorContains(t, err, "nn: Summary: forward pass of Linear on an input of shape [3 5]")
	require.ErrorIs(t, err, tensor.ErrShape)
	_, err = nn.Summary(nn.Linear(4, 2), -1)
	require.ErrorContains(t, err, "input shape [-1]")
	_, err = nn.Summary(nil, 1)
	require.ErrorContains(t, err, "nil module")
}
