#!/usr/bin/env bash
# Runs on the GPU host (copied to build/gpu/run.sh by build/gpu-binaries.sh):
# every CUDA check and timing in one go, logs in ./logs. The host needs the
# NVIDIA driver; python3 with PyTorch is used for the side-by-side timings
# when present. Each step has a time limit and a failing step does not stop
# the others; the exit status is 1 if any step failed.
set -uo pipefail
cd "$(dirname "$0")"
mkdir -p logs
status=0
step() { # name timeout command...
	local name=$1 limit=$2
	shift 2
	echo "== $name"
	local t0=$SECONDS
	timeout "$limit" "$@" >"logs/$name.log" 2>&1
	local rc=$?
	tail -n 25 "logs/$name.log"
	echo "== $name: exit $rc after $((SECONDS - t0)) s"
	[ $rc = 0 ] || status=1
	return 0
}
{
	echo "date: $(date -u +%FT%TZ)"
	echo "host: $(uname -a)"
	cat COMMIT 2>/dev/null
	nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || true
	# Binaries built with CUDA 13 headers call these older entry points
	# (internal/cudacompat/include/cuda.h): record that the driver exports them.
	python3 -c 'import ctypes; l = ctypes.CDLL("libcuda.so.1"); print("libcuda exports:", " ".join(s + ("=yes" if hasattr(l, s) else "=MISSING") for s in ["cuCtxCreate_v2", "cuMemAdvise", "cuMemPrefetchAsync", "cuGraphGetEdges", "cuGraphAddDependencies"]))' 2>&1 || true
} | tee logs/env.log

# 0. Start-up: every kernel module loaded as the device's machine code and
#    as PTX through a cold JIT (no driver cache), with each load's time.
step kernel-load 600 env CUDA_CACHE_DISABLE=1 ./cuda.test -test.v -test.count=1 -test.run '^TestKernelLoadTimes$'
# 1. The backend's own tests (allocator, contexts from many goroutines,
#    asynchronous errors, Philox stream).
step cuda-tests 600 ./cuda.test -test.v -test.count=1 -test.run '^Test'
# 2. Every tensor op on the GPU against the CPU backend.
step conformance 900 ./tensor.test -test.v -test.count=1 -test.run '^TestConformance$'
# 2b. Every layer, loss and optimizer on the GPU against the CPU; XOR,
#     training through the loader, checkpoints across devices, and the
#     allocator staying flat over 1,000 training steps.
step train-conformance 900 ./train.test -test.v -test.count=1
# 3. The rest of the tensor tests, in a binary that has the CUDA backend linked.
step tensor-tests 600 ./tensor.test -test.count=1 -test.short
# 4. GPU timings, then the same workloads in PyTorch.
step go-bench 900 ./cuda.test -test.run '^$' -test.bench 'GPU|UploadOverlap' -test.benchtime 2s -test.count=1
if python3 -c 'import torch; assert torch.cuda.is_available()' >/dev/null 2>&1; then
	step torch-bench 600 python3 torch_bench.py
else
	echo "== torch-bench: skipped (python3 with CUDA PyTorch not found)" | tee logs/torch-bench.log
fi
# 5. The command's own benchmark and device list.
if [ -x ./nabla ]; then
	step nabla-devices 60 ./nabla devices
	# The suite and the training table, each beside PyTorch on the same
	# GPU: one MLP and one CNN epoch on the embedded 10k images at batch
	# 64 and 512, time per step and peak device memory.
	step nabla-bench 900 ./nabla bench -device cuda -train mlp,cnn -batch 64,512 -data embedded
	# The course's models trained on the GPU (embedded 10k split: 8000
	# train / 1000 validation / 1000 test), to compare with the CPU's
	# accuracies recorded in docs/performance.md for the same commands.
	step train-mlp-gpu 600 ./nabla train -device cuda -model mlp -epochs 5 -data embedded -out out-mlp
	step train-cnn-gpu 600 ./nabla train -device cuda -model cnn -epochs 5 -data embedded -out out-cnn
fi

# Side by side: nabla's metric over PyTorch's for each workload.
python3 - <<'PY' 2>&1 | tee logs/summary.log
import re
names = {
    "BenchmarkGPUAdd64M": "add_f32_64M",
    "BenchmarkGPUCopy64M": "copy_f32_64M",
    "BenchmarkGPUSoftmax8192": "softmax_8192",
    "BenchmarkGPUSum64M": "sum_f32_64M",
    "BenchmarkGPUSGEMM4096/tf32=false": "sgemm_4096_tf32_off",
    "BenchmarkGPUSGEMM4096/tf32=true": "sgemm_4096_tf32_on",
    "BenchmarkGPUSmallOp": "small_op",
}
ours = {}
try:
    for line in open("logs/go-bench.log"):
        m = re.match(r"(Benchmark\S+?)(-\d+)?\s+\d+\s+[\d.]+ ns/op\s+([\d.]+) (\S+)", line)
        if m and m.group(1) in names:
            ours[names[m.group(1)]] = (float(m.group(3)), m.group(4))
except OSError:
    pass
torch = {}
try:
    for line in open("logs/torch-bench.log"):
        p = line.split()
        if len(p) == 3 and p[0] in names.values():
            torch[p[0]] = (float(p[1]), p[2])
except OSError:
    pass
print("%-22s %14s %14s %8s" % ("workload", "nabla", "pytorch", "ratio"))
for key in names.values():
    o, t = ours.get(key), torch.get(key)
    if not o:
        print("%-22s %14s" % (key, "missing"))
        continue
    ratio = ""
    if t and t[0] > 0:
        # higher is better except for the host cost
        r = o[0] / t[0] if o[1] != "us/op" else t[0] / o[0]
        ratio = "%.2f" % r
    print("%-22s %9.1f %-5s %9s %-5s %7s" % (key, o[0], o[1], "%.1f" % t[0] if t else "-", t[1] if t else "", ratio))
print("(ratio > 1: nabla faster)")
PY
# The training table of nabla bench, nabla and PyTorch side by side.
if [ -f logs/nabla-bench.log ]; then
	sed -n '/^Training epochs/,$p' logs/nabla-bench.log | tee -a logs/summary.log
fi
echo "run.sh: logs in $(pwd)/logs; exit $status"
exit $status
