package tensor

// Every program that uses package tensor links the CUDA backend, which
// registers its driver with package device. Built with -tags cuda, cuda:N
// is the GPU, and device.Best() returns cuda:0 on a machine with one.
// Without the tag the backend is pure Go and registers nothing: cuda:N
// exists only when NABLA_CUDA=emulate is set or the program calls
// cuda.UseEmulator(), and then is the PTX virtual machine. Package tensor
// itself never branches on the kind of device.
import _ "github.com/nabla-go/nabla/device/cuda"
