// Package optim updates model parameters from their gradients: the
// optimizers SGD (with momentum, dampening, Nesterov and weight decay),
// AdaGrad, RMSProp, Adam and AdamW; the learning-rate schedules StepLR,
// ExponentialLR, CosineAnnealingLR, LambdaLR, MultiplicativeLR, the
// warm-ups LinearLR and ConstantLR, SequentialLR to chain them, and
// ReduceLROnPlateau, which follows a validation metric; gradient
// clipping; and checkpoints that save and resume a whole training run.
//
// Every optimizer follows the update formulas of PyTorch 1.13+
// (torch.optim) exactly, with the same defaults, so a training loop moves
// over from Python line by line:
//
//	opt := optim.SGD(model.Parameters(), 0.1, optim.Momentum(0.9), optim.WeightDecay(1e-4))
//	sched := optim.StepLR(opt, 30, 0.1)
//	for epoch := 0; epoch < 90; epoch++ {
//		for _, batch := range batches {
//			opt.ZeroGrad()
//			loss := lossFn(model.Forward(batch.X), batch.Y)
//			loss.Backward()
//			optim.ClipGradNorm(model.Parameters(), 1.0)
//			opt.Step()
//		}
//		sched.Step()
//	}
//
// Updates happen in place: Step writes the new values into each
// parameter's tensor (Var.Detach().CopyFrom), so views of the parameters
// and the modules that hold them see the change. Per-parameter state
// (momentum buffers, running averages) lives on the parameter's device.
// Parameters without a gradient are skipped, as in PyTorch.
//
// Errors follow the project's policy: invalid hyperparameters (a negative
// learning rate, Nesterov without momentum, an option the optimizer does not
// take) are programming errors and panic with a *tensor.Error wrapping
// tensor.ErrArgument; loading state and checkpoints meets the outside world
// and returns errors (wrapping ErrState or ErrCorrupt), never panics.
//
// State dicts and checkpoints are safetensors files: tensors under
// PyTorch's names ("state.0.exp_avg", "state.0.momentum_buffer", ...) and
// the scalars (hyperparameters, step counts, the epoch) as string
// metadata; a checkpoint keeps the random generators' states as Uint8
// tensors ("rng.state", "data_rng.state": tensor.Generator.State, whose
// first 5056 bytes are torch.get_rng_state()'s). A checksum covers
// everything, so that a corrupt file is reported instead of silently
// resumed.
//
// The fused update kernels behind Step are not part of tensor's API; they
// come through the internal bridge internal/prim.
package optim
