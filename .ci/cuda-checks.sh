#!/usr/bin/env bash
# CI checks of the CUDA backend on a machine without a GPU: installs the
# CUDA toolchain (nvcc 11.8, cuda.h, libcuda; needs root), checks that the
# committed PTX matches kernels/*.cu, that the committed sm_80/sm_90
# machine code is its assembly, and that no kernel spills registers, and
# vets and builds everything with -tags cuda. The default build's tests
# (go test ./...) cover the kernel ABI and launch planning
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
echo "cuda-checks: OK"
