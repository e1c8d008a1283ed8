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
# have it in /usr/local/cuda/lib64/stubs). No nvcc: the PTX kernels are
# committed and embedded. Running the binary needs the NVIDIA driver and a
# GPU: without one it exits at start-up (gorgonia.org/cu initialises the
# driver when the program starts).
#
# Env: OUT (default ./nabla), CUDA_HOME (default /usr/local/cuda).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${OUT:-$root/nabla}"
CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}"

# gorgonia.org/cu looks for cuda.h and libcuda.so in /usr/local/cuda and the
# system directories; add a toolkit's include directory and its stub
# library when they are elsewhere or only the stub is there.
if [ -f "$CUDA_HOME/include/cuda.h" ]; then
	export CGO_CFLAGS="${CGO_CFLAGS:-} -I$CUDA_HOME/include"
fi
for lib in "$CUDA_HOME/lib64" "$CUDA_HOME/lib64/stubs" /usr/lib/x86_64-linux-gnu/stubs; do
	if [ -e "$lib/libcuda.so" ]; then
		export CGO_LDFLAGS="${CGO_LDFLAGS:-} -L$lib"
	fi
done
export CGO_ENABLED=1

cd "$root"
go build -tags cuda -o "$OUT" ./cmd/nabla
echo "built $OUT (CUDA backend; needs the NVIDIA driver and a GPU to run)"
