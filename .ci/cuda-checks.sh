#!/usr/bin/env bash
# CI checks of the CUDA backend on a machine without a GPU: installs the
# CUDA toolchain (nvcc 11.8, cuda.h, libcuda; needs root), checks that the
# committed PTX matches kernels/*.cu, that the committed sm_80/sm_90
# machine code is its assembly, and that no kernel spills registers, and
# vets and builds everything with -tags cuda, also against a stand-in for
# CUDA 13's cuda.h (build/fake-cuda13-header.sh). The default build's
# tests (go test ./...) cover the kernel ABI and launch planning
# (device/cuda/abi_test.go, plan_test.go) without CUDA.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== CUDA toolkit"
bash build/install-cuda-toolkit.sh

echo "== kernels: PTX and machine code"
bash build/check-kernels.sh

echo "== go vet -tags cuda"
go vet -tags cuda ./...

echo "== go build -tags cuda"
go build -tags cuda ./...
go test -c -tags cuda -o /dev/null ./device/cuda
go test -c -tags cuda -o /dev/null ./tensor

# CUDA 13's cuda.h changed five functions gorgonia.org/cu calls. With a
# stand-in made from the installed header: the plain build must stop with
# internal/cudacompat's instruction, and the build through the wrapper
# (build/cuda-env.sh adds it, as the build scripts do) must vet and link.
echo "== CUDA 13 headers (stand-in)"
fake=$(mktemp -d)
bash build/fake-cuda13-header.sh "$fake/include"
if CGO_CFLAGS="$(go env CGO_CFLAGS) -I$fake/include" go build -tags cuda ./device/cuda >"$fake/plain.log" 2>&1; then
	echo "a build against the CUDA 13 stand-in without the wrapper succeeded: the stand-in tests nothing"
	exit 1
fi
if ! grep -q 'nabla: cuda.h is from CUDA 13' "$fake/plain.log"; then
	cat "$fake/plain.log"
	echo "the build against CUDA 13 headers failed without internal/cudacompat's instruction"
	exit 1
fi
(
	export CGO_CFLAGS="$(go env CGO_CFLAGS) -I$fake/include"
	root=$PWD
	. build/cuda-env.sh
	go vet -tags cuda ./...
)
CGO_CFLAGS="$(go env CGO_CFLAGS) -I$fake/include" OUT="$fake/nabla" bash build/build-nabla-cuda.sh
rm -rf "$fake"
echo "cuda-checks: OK"
