#!/usr/bin/env bash
# Builds everything the GPU host runs into build/gpu/ (git-ignored), on a
# development machine without a GPU (see GPU.md):
#
#   build/gpu/cuda.test      device/cuda tests and the GPU benchmarks
#   build/gpu/tensor.test    tensor tests, with the CPU-vs-GPU conformance suite
#   build/gpu/train.test     the training conformance suite (internal/conformance):
#                            every layer, loss and optimizer vs the CPU, XOR,
#                            checkpoints across devices, steady-state memory
#   build/gpu/nabla          the command (when cmd/nabla exists)
#   build/gpu/torch_bench.py the same workloads in PyTorch
#   build/gpu/run.sh         runs all checks and timings in one go, logs in build/gpu/logs
#
# Needs Go and the CUDA headers/libcuda from build/install-cuda-toolkit.sh,
# or any CUDA toolkit from 11.8 to 13.x (no GPU, no nvcc: the PTX and the
# machine code are committed); build/cuda-env.sh sets up cgo for it. Copy
# build/gpu to the GPU host and run ./run.sh there.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
. "$root/build/cuda-env.sh"
out=build/gpu
mkdir -p "$out"
echo "gpu-binaries: cuda.test"
go test -c -tags cuda -o "$out/cuda.test" ./device/cuda
echo "gpu-binaries: tensor.test"
go test -c -tags cuda -o "$out/tensor.test" ./tensor
echo "gpu-binaries: train.test"
go test -c -tags cuda -o "$out/train.test" ./internal/conformance
if [ -d cmd/nabla ]; then
	echo "gpu-binaries: nabla"
	go build -tags cuda -o "$out/nabla" ./cmd/nabla
fi
cp build/torch_bench.py "$out/torch_bench.py"
cp build/gpu-run.sh "$out/run.sh"
chmod +x "$out/run.sh"
git rev-parse HEAD >"$out/COMMIT" 2>/dev/null || true
git status --short >>"$out/COMMIT" 2>/dev/null || true
ls -la "$out"
