package tensor

import (
	"slices"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/backend"
)

// canFuseOptim reports whether the fused optimizer steps accept these
// tensors: all contiguous, of one shape, float dtype and device (nil
// entries are skipped).
func canFuseOptim(p *Tensor, others ...*Tensor) bool {
	if !p.DType().IsFloat() || !p.IsContiguous() {
		return false
	}
	for _, t := range others {
		if t == nil {
			continue
		}
		if !t.IsContiguous() || t.DType() != p.DType() || t.Device() != p.Device() || !slices.Equal(t.layout.Shape, p.layout.Shape) {
			return false
		}
	}
	return true
}

// fusedSGDStep applies one SGD update (device.SGDStep) to p in place in a
// single pass, reading the gradient g and updating the momentum buffer
// buf (nil when h.Momentum is 0). The tensors must satisfy canFuseOptim.
func fusedSGDStep(p, g, buf *Tensor, h device.OptimHyper) {
	fusedOptim("FusedSGDStep", device.SGDStep, p, g, [3]*Tensor{buf}, h)
}

// fusedAdamStep applies one Adam or AdamW update (device.AdamStep) to p
// in place in a single pass, reading the gradient g and updating the
// moments m and v and, with h.AMSGrad, vmax (nil otherwise).
func fusedAdamStep(p, g, m, v, vmax *Tensor, h device.OptimHyper) {
	fusedOptim("FusedAdamStep", device.AdamStep, p, g, [3]*Tensor{m, v, vmax}, h)
}

// fusedAdagradStep applies one AdaGrad update (device.AdagradStep) to p
// in place in a single pass, reading the gradient g and updating the
// accumulated squares sum; h.LR is this step's decayed rate.
func fusedAdagradStep(p, g, sum *Tensor, h device.OptimHyper) {
	fusedOptim("FusedAdagradStep", device.AdagradStep, p, g, [3]*Tensor{sum}, h)
}

// fusedRMSPropStep applies one RMSprop update (device.RMSPropStep) to p
// in place in a single pass, reading the gradient g and updating the
// running average of its square v, the momentum buffer buf (nil when
// h.Momentum is 0) and, with h.Centered, the running average of the
// gradient gavg (nil otherwise).
func fusedRMSPropStep(p, g, v, buf, gavg *Tensor, h device.OptimHyper) {
	fusedOptim("FusedRMSPropStep", device.RMSPropStep, p, g, [3]*Tensor{v, buf, gavg}, h)
}

func fusedOptim(op string, kind device.OptimOp, p, g *Tensor, st [3]*Tensor, h device.OptimHyper) {
	need := backend.OptimStates(kind, h)
	var views [3]device.View
	all := []*Tensor{g}
	for i, t := range st {
		if !need[i] {
			continue
		}
		if t == nil {
			fail(op, ErrArgument, "state %d is required by these hyperparameters", i)
		}
		views[i] = t.view()
		all = append(all, t)
	}
	sameDevice(op, append([]*Tensor{p}, all...)...)
	if !canFuseOptim(p, all...) {
		fail(op, ErrArgument, "the parameter, gradient and states must be contiguous float tensors of one shape and dtype")
	}
	check(op, p.be.OptimStep(kind, p.view(), g.view(), views, h))
}
