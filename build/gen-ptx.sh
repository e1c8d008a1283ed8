#!/usr/bin/env bash
# Compiles every kernels/*.cu to PTX and keeps one PTX text per kernel
# family, plus one per newer virtual architecture only where the source
# really differs there:
#
#   kernels/ptx/<name>_70.ptx     nvcc -ptx -arch=compute_70 -O3 (every family)
#   kernels/ptx/<name>_80.ptx     only if the compute_80 PTX differs from the
#   kernels/ptx/<name>_90.ptx     compute_70 one beyond its .target line
#                                 (today: matmul's TF32 path, __CUDA_ARCH__ >= 800)
#
# A family whose code is the same everywhere needs one PTX text: the
# driver JIT-compiles the compute_70 PTX for any newer GPU, and
# build/gen-sass.sh assembles machine code for sm_80 and sm_90 from it.
# The output is deterministic for a given nvcc up to rare register
# renumbering (build/check-kernels.sh recompiles on a mismatch). The
# committed PTX comes from nvcc 11.8 (Debian's nvidia-cuda-toolkit; see
# build/install-cuda-toolkit.sh): regenerate with the same version.
#
# Usage: build/gen-ptx.sh [output-dir]     (default kernels/ptx)
# Env:   NVCC (default nvcc), JOBS (parallel nvcc runs, default 2),
#        ARCHS (candidate virtual architectures, default "70 80 90";
#        the first is always kept).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/kernels/ptx}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
NVCC="${NVCC:-nvcc}"
JOBS="${JOBS:-2}"
ARCHS="${ARCHS:-70 80 90}"
command -v "$NVCC" >/dev/null || { echo "gen-ptx: $NVCC not found; run build/install-cuda-toolkit.sh" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cd "$root/kernels"
jobs=()
for src in *.cu; do
	for arch in $ARCHS; do
		jobs+=("${src%.cu} $arch")
	done
done
# Compile from inside kernels/ with relative names so that nothing about
# the checkout's location can reach the output.
export NVCC tmp
printf '%s\n' "${jobs[@]}" | xargs -P "$JOBS" -L 1 bash -c '
	set -euo pipefail
	name=$0 arch=$1
	"$NVCC" -std=c++17 -ptx -arch="compute_$arch" -O3 "$name.cu" -o "$tmp/${name}_${arch}.ptx"
'
# body prints a PTX file without its .target line, which is all that
# differs between architectures when the source has no arch-specific code.
body() { grep -v '^\.target ' "$1"; }
same() { cmp -s <(body "$1") <(body "$2"); }
for src in *.cu; do
	name="${src%.cu}"
	kept=""
	for arch in $ARCHS; do
		f="$tmp/${name}_${arch}.ptx"
		if [ -n "$kept" ]; then
			# nvcc 11.8 occasionally numbers virtual registers differently
			# from one run to the next (more often on a loaded machine):
			# recompile both before deciding that an architecture differs.
			k="$tmp/${name}_${kept}.ptx"
			tries=0
			while ! same "$f" "$k" && [ "$tries" -lt 4 ]; do
				tries=$((tries + 1))
				"$NVCC" -std=c++17 -ptx -arch="compute_$arch" -O3 "$name.cu" -o "$f"
				same "$f" "$k" && break
				"$NVCC" -std=c++17 -ptx -arch="compute_$kept" -O3 "$name.cu" -o "$tmp/again.ptx"
				same "$f" "$tmp/again.ptx" && cp "$tmp/again.ptx" "$k"
			done
			if same "$f" "$k"; then
				rm -f "$out/${name}_${arch}.ptx"
				continue
			fi
		fi
		cp "$f" "$out/${name}_${arch}.ptx"
		echo "gen-ptx: ${name}_${arch}.ptx"
		kept="$arch"
	done
done
# Remove PTX whose source is gone.
for f in "$out"/*.ptx; do
	base="$(basename "$f" .ptx)"
	[ -f "${base%_*}.cu" ] || { echo "gen-ptx: removing stale $f"; rm -f "$f"; }
done
