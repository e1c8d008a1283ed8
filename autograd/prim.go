package autograd

import (
	"github.com/nabla-go/nabla/internal/prim"
	"github.com/nabla-go/nabla/tensor"
)

// tensorOps are the gradient kernels and fused primitives that package
// tensor keeps out of its API; its init has registered them by the time
// this variable is initialised.
var tensorOps = prim.TensorOps[*tensor.Tensor, *tensor.Generator]()

// nn fuses a Linear with the activation after it through
// linearActivation, which is no API of this package.
func init() {
	prim.RegisterAutograd(&prim.Autograd[*Var]{LinearActivation: linearActivation})
}
