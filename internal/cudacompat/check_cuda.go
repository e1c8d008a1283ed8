//go:build cuda

package cudacompat

/*
// The include directories gorgonia.org/cu v0.9.6 searches, in its order,
// so that this finds the cuda.h gorgonia.org/cu compiles against.
#cgo linux CFLAGS: -I/usr/local/cuda/include -I/usr/local/cuda-11.0/targets/x86_64-linux/include -I/usr/local/cuda-10.2/include -I/usr/include -I/opt/cuda/include
#cgo darwin CFLAGS: -I/usr/local/cuda/include
#include <cuda.h>

#if !defined(CUDA_VERSION)
#error "nabla: the cuda.h found is not the CUDA driver API header (no CUDA_VERSION); install a CUDA toolkit (build/install-cuda-toolkit.sh on Debian) or set CGO_CFLAGS=-I<toolkit>/include"
#elif CUDA_VERSION >= 13000 && !defined(NABLA_CUDA_COMPAT)
#error "nabla: cuda.h is from CUDA 13, which gorgonia.org/cu v0.9.6 does not compile against (its type errors come from this). Build with build/build-nabla-cuda.sh, or from the nabla module root: CGO_CFLAGS=\"-I$PWD/internal/cudacompat/include $(go env CGO_CFLAGS)\" go build -tags cuda ./...  (README.md: Supported CUDA toolkits and drivers)"
#endif
*/
import "C"
