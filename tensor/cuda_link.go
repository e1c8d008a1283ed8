//go:build cuda

package tensor

// Built with -tags cuda, every program that uses package tensor links the
// CUDA backend, which registers itself with package device; device.Best()
// then returns cuda:0 on a machine with a GPU. Package tensor itself never
// branches on the kind of device.
import _ "github.com/nabla-go/nabla/device/cuda"
