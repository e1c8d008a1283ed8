package tensor

import "github.com/nabla-go/nabla/internal/prim"

// The primitives autograd, nn and optim are built from are no API of this
// package: registered here, they reach those packages through
// internal/prim and nobody else.
func init() {
	prim.RegisterTensor(&prim.Tensor[*Tensor, *Generator]{
		ActivationGrad:        activationGrad,
		BiasActivation:        biasActivation,
		BiasActivationInPlace: biasActivationInPlace,
		ApplyActivation:       applyActivation,
		BatchNormStats:        batchNormStats,
		BatchNormForward:      batchNormForward,
		BatchNormBackward:     batchNormBackward,
		Conv2dBackward:        conv2dBackward,
		MaxPool2dBackward:     maxPool2dBackward,
		AvgPool2dBackward:     avgPool2dBackward,
		CrossEntropy:          crossEntropy,
		CrossEntropyBackward:  crossEntropyBackward,
		Dropout:               dropout,
		DropoutWith:           dropoutWith,
		CanFuseOptim:          canFuseOptim,
		FusedSGDStep:          fusedSGDStep,
		FusedAdamStep:         fusedAdamStep,
		FusedAdagradStep:      fusedAdagradStep,
		FusedRMSPropStep:      fusedRMSPropStep,
	})
}
