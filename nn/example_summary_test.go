package nn_test

import (
	"fmt"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/nn"
)

// TinyNet is a model of one's own, built on nn.Base.
type TinyNet struct {
	nn.Base
	hidden, out *nn.LinearModule
}

func NewTinyNet() *TinyNet {
	m := &TinyNet{hidden: nn.Linear(4, 8), out: nn.Linear(8, 3)}
	m.RegisterModule("hidden", m.hidden)
	m.RegisterModule("out", m.out)
	return m
}

func (m *TinyNet) Forward(x *autograd.Var) *autograd.Var {
	return m.out.Forward(m.hidden.Forward(x).Relu())
}

func (m *TinyNet) To(dev device.Device) nn.Module { m.MoveTo(dev); return m }

// Repr prints any module's tree as PyTorch's print(model) does; Summary
// adds each layer's output shape for an input shape and the parameter
// counts.
func ExampleSummary() {
	model := NewTinyNet()
	fmt.Println(nn.Repr(model))

	s, err := nn.Summary(model, 32, 4)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s)
	// Output:
	// TinyNet(
	//   (hidden): Linear(in_features=4, out_features=8, bias=True)
	//   (out): Linear(in_features=8, out_features=3, bias=True)
	// )
	// Layer (type)       Output shape  Param #
	// ========================================
	// TinyNet            [32, 3]            67
	//   hidden (Linear)  [32, 8]            40
	//   out (Linear)     [32, 3]            27
	// ========================================
	// Total params: 67
	// Buffers (not trained): 0
	// Input shape: [32, 4]
	// Parameters and buffers: 0.00 MB
}
