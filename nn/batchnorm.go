package nn

import (
	"fmt"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/tensor"
)

// BatchNormModule is the batch normalisation layer made by BatchNorm1d and
// BatchNorm2d.
type BatchNormModule struct {
	Base
	// Weight and Bias [C] are the learnable affine map (initialised to 1
	// and 0).
	Weight, Bias *autograd.Var
	// RunningMean and RunningVar [C] are the buffers running_mean and
	// running_var; NumBatchesTracked (Int64, 0-D) counts training steps.
	RunningMean, RunningVar, NumBatchesTracked *autograd.Var
	// Eps is added to the variance (default 1e-5); Momentum weighs the
	// batch statistics in the running ones (default 0.1).
	Eps, Momentum float64
	features      int
	ranks         []int // input ranks accepted
	name          string
}

func newBatchNorm(name string, n int, ranks ...int) *BatchNormModule {
	positive(name, "num_features", n)
	m := &BatchNormModule{Eps: 1e-5, Momentum: 0.1, features: n, ranks: ranks, name: name}
	m.Weight = m.RegisterParameter("weight", autograd.Param(tensor.Ones(n)))
	m.Bias = m.RegisterParameter("bias", autograd.Param(tensor.Zeros(n)))
	m.RunningMean = m.RegisterBuffer("running_mean", autograd.Const(tensor.Zeros(n)))
	m.RunningVar = m.RegisterBuffer("running_var", autograd.Const(tensor.Ones(n)))
	m.NumBatchesTracked = m.RegisterBuffer("num_batches_tracked", autograd.Const(tensor.Scalar(int64(0))))
	return m
}

// BatchNorm1d returns batch normalisation over the n features of a [N, n]
// or [N, n, L] input (torch.nn.BatchNorm1d): in training mode each feature
// is normalised with the batch's mean and (biased) variance and the
// running statistics are updated as
// running = (1-momentum)·running + momentum·batch using the unbiased
// variance; in evaluation mode the running statistics are used. Then the
// affine map weight·x̂ + bias is applied. eps = 1e-5, momentum = 0.1.
func BatchNorm1d(n int) *BatchNormModule { return newBatchNorm("BatchNorm1d", n, 2, 3) }

// BatchNorm2d returns batch normalisation over the n channels of an
// [N, n, H, W] input (torch.nn.BatchNorm2d); see BatchNorm1d.
func BatchNorm2d(n int) *BatchNormModule { return newBatchNorm("BatchNorm2d", n, 4) }

// Forward normalises x and, in training mode, updates the running
// statistics.
func (m *BatchNormModule) Forward(x *autograd.Var) *autograd.Var {
	ok := false
	for _, r := range m.ranks {
		ok = ok || x.Dim() == r
	}
	if !ok {
		want := "[N, C, H, W]"
		if m.name == "BatchNorm1d" {
			want = "[N, C] or [N, C, L]"
		}
		panic(&tensor.Error{Op: m.name, Kind: tensor.ErrShape, Msg: fmt.Sprintf("expects a %s input, got shape %v", want, x.Shape())})
	}
	m.checkInput(x, "")
	training := m.Training()
	out := autograd.BatchNorm(x, m.RunningMean.Detach(), m.RunningVar.Detach(), m.Weight, m.Bias, training, m.Momentum, m.Eps)
	if training {
		n := m.NumBatchesTracked.Detach()
		n.CopyFrom(n.Add(int64(1))) // in place, like the running statistics
	}
	return observe(m, out)
}

// To moves the parameters and buffers to dev and returns m.
func (m *BatchNormModule) To(dev device.Device) Module { m.MoveTo(dev); return m }

// String prints the layer like PyTorch's repr.
func (m *BatchNormModule) String() string {
	return fmt.Sprintf("%s(%d, eps=%v, momentum=%v, affine=True, track_running_stats=True)", m.name, m.features, m.Eps, m.Momentum)
}
