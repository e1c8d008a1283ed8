#!/usr/bin/env bash
# Builds the nabla command with the CUDA backend (build tag cuda):
#
#   build/build-nabla-cuda.sh                  writes ./nabla
#   OUT=/usr/local/bin/nabla build/build-nabla-cuda.sh
#
# Dockerfile.cuda's build stage runs this script, so the image and a local
# build are the same build; CI runs `go build -tags cuda` as well.
#
# Building needs cgo (a C compiler), cuda.h and a libcuda.so to link
# against: the NVIDIA driver's, or the stub of a CUDA toolkit
# (build/install-cuda-toolkit.sh installs one; the nvidia/cuda devel images
# have it in /usr/local/cuda/lib64/stubs). CUDA toolkits 11.8 to 13.x work:
# with CUDA 13 headers build/cuda-env.sh adds the cuda.h wrapper that
# gorgonia.org/cu needs (README.md, Supported CUDA toolkits and drivers).
# No nvcc: the PTX kernels are committed and embedded. Running the binary
# needs the NVIDIA driver and a GPU: without one it exits at start-up
# (gorgonia.org/cu initialises the driver when the program starts).
#
# Env: OUT (default ./nabla), CUDA_HOME (default /usr/local/cuda); CC,
# CGO_CFLAGS and CGO_LDFLAGS are kept and added to.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${OUT:-$root/nabla}"

# cgo flags: the toolkit's include and stub directories, and with CUDA 13
# headers nabla's cuda.h wrapper first.
. "$root/build/cuda-env.sh"

cd "$root"
go build -tags cuda -o "$OUT" ./cmd/nabla
echo "built $OUT (CUDA backend; needs the NVIDIA driver and a GPU to run)"
