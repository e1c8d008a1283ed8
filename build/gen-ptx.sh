#!/usr/bin/env bash
# Compiles every kernels/*.cu to PTX for the virtual architectures
# compute_70, compute_80 and compute_90:
#
#   kernels/ptx/<name>_<arch>.ptx     (nvcc -ptx -arch=compute_<arch> -O3)
#
# The output is deterministic for a given nvcc up to rare register
# renumbering (check-ptx.sh recompiles on a mismatch), so build/check-ptx.sh can
# regenerate it and compare with the committed files. The committed PTX
# comes from nvcc 11.8 (Debian's nvidia-cuda-toolkit; see
# build/install-cuda-toolkit.sh): regenerate with the same version.
#
# Usage: build/gen-ptx.sh [output-dir]     (default kernels/ptx)
# Env:   NVCC (default nvcc), JOBS (parallel nvcc runs, default 2),
#        ARCHS (default "70 80 90").
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/kernels/ptx}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
NVCC="${NVCC:-nvcc}"
JOBS="${JOBS:-2}"
ARCHS="${ARCHS:-70 80 90}"
command -v "$NVCC" >/dev/null || { echo "gen-ptx: $NVCC not found; run build/install-cuda-toolkit.sh" >&2; exit 1; }

cd "$root/kernels"
jobs=()
for src in *.cu; do
	for arch in $ARCHS; do
		jobs+=("${src%.cu} $arch")
	done
done
# Compile from inside kernels/ with relative names so that nothing about
# the checkout's location can reach the output.
export NVCC out
printf '%s\n' "${jobs[@]}" | xargs -P "$JOBS" -L 1 bash -c '
	set -euo pipefail
	name=$0 arch=$1
	"$NVCC" -std=c++17 -ptx -arch="compute_$arch" -O3 "$name.cu" -o "$out/${name}_${arch}.ptx"
	echo "gen-ptx: ${name}_${arch}.ptx"
'
# Remove PTX whose source is gone.
for f in "$out"/*.ptx; do
	base="$(basename "$f" .ptx)"
	[ -f "${base%_*}.cu" ] || { echo "gen-ptx: removing stale $f"; rm -f "$f"; }
done
