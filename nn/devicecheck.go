package nn

import (
	"fmt"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/tensor"
)

// inputChecker is a layer with parameters: before it runs, it checks that
// its input lives on the parameters' device, so that a model on one
// device fed a tensor on another names the layer (and, in a Sequential,
// where the layer is) rather than the op deep inside it (a fused
// LinearActivation, say).
type inputChecker interface {
	// checkInput panics with an ErrDevice *tensor.Error when x is not
	// on the layer's device; path is the layer's name in the Sequential
	// that runs it ("2", "1.0"), or "".
	checkInput(x *autograd.Var, path string)
}

// checkInputDevice panics with an ErrDevice *tensor.Error naming layer,
// its path, both devices and the fix when x and the parameter p live on
// different devices.
func checkInputDevice(layer fmt.Stringer, path string, x, p *autograd.Var) {
	xd, pd := x.Device(), p.Device()
	if xd == pd {
		return
	}
	op := layer.String()
	if path != "" {
		op = "layer " + path + ", " + op
	}
	panic(&tensor.Error{Op: op, Kind: tensor.ErrDevice, Msg: fmt.Sprintf(
		"the input is on %v but the layer's parameters are on %v; move the model with model.To(%v) or the input with x.To(%v) first",
		xd, pd, xd, pd)})
}

func (m *LinearModule) checkInput(x *autograd.Var, path string) {
	checkInputDevice(m, path, x, m.Weight)
}

func (m *Conv2dModule) checkInput(x *autograd.Var, path string) {
	checkInputDevice(m, path, x, m.Weight)
}

func (m *BatchNormModule) checkInput(x *autograd.Var, path string) {
	checkInputDevice(m, path, x, m.Weight)
}

func (m *PReLUModule) checkInput(x *autograd.Var, path string) {
	checkInputDevice(m, path, x, m.Weight)
}
