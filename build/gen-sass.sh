#!/usr/bin/env bash
# Assembles the committed PTX into machine code (SASS cubins) for the
# architectures of the GPUs nabla is tuned for, so that they load without
# the driver's JIT compiler:
#
#   kernels/sass/<name>_80.cubin.gz   sm_80: A100, and through binary
#                                     compatibility A10, L4, RTX 30 and 40
#   kernels/sass/<name>_90.cubin.gz   sm_90: H100, H200
#
# Each cubin is `ptxas -arch=sm_XY` of the newest kernels/ptx/<name>_*.ptx
# not newer than XY, so the machine code is the assembly of exactly the PTX
# the PTX virtual machine runs in go test. ptxas is deterministic; the
# cubins are compressed with `gzip -n` (no name, no time stamp), and
# build/check-kernels.sh compares their decompressed contents.
#
# Usage: build/gen-sass.sh [ptx-dir [output-dir [log-dir]]]
#        (defaults kernels/ptx, kernels/sass; with a log-dir, ptxas -v
#        writes each build's registers, shared memory and spills there)
# Env:   PTXAS (default ptxas), JOBS (parallel ptxas runs, default 2),
#        SASS_ARCHS (default "80 90").
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
ptx="$(cd "${1:-$root/kernels/ptx}" && pwd)"
out="${2:-$root/kernels/sass}"
logs="${3:-}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
if [ -n "$logs" ]; then mkdir -p "$logs" && logs="$(cd "$logs" && pwd)"; fi
PTXAS="${PTXAS:-ptxas}"
JOBS="${JOBS:-2}"
SASS_ARCHS="${SASS_ARCHS:-80 90}"
command -v "$PTXAS" >/dev/null || { echo "gen-sass: $PTXAS not found; run build/install-cuda-toolkit.sh" >&2; exit 1; }

jobs=()
for f in "$ptx"/*_70.ptx; do
	name="$(basename "$f" _70.ptx)"
	for arch in $SASS_ARCHS; do
		src=""
		for p in "$ptx/${name}"_*.ptx; do
			a="${p##*_}" a="${a%.ptx}"
			if [ "$a" -le "$arch" ] && { [ -z "$src" ] || [ "$a" -gt "${src##*_}" ]; }; then
				src="${p%.ptx}"
			fi
		done
		jobs+=("$name $arch $src.ptx")
	done
done
export PTXAS out logs
printf '%s\n' "${jobs[@]}" | xargs -P "$JOBS" -L 1 bash -c '
	set -euo pipefail
	name=$0 arch=$1 src=$2
	cubin="$(mktemp)"
	trap "rm -f \"$cubin\"" EXIT
	if [ -n "$logs" ]; then
		"$PTXAS" -arch="sm_$arch" -O3 -v "$src" -o "$cubin" >"$logs/${name}_${arch}.log" 2>&1 ||
			{ cat "$logs/${name}_${arch}.log" >&2; exit 1; }
	else
		"$PTXAS" -arch="sm_$arch" -O3 "$src" -o "$cubin"
	fi
	gzip -n -9 -c "$cubin" >"$out/${name}_${arch}.cubin.gz"
	echo "gen-sass: ${name}_${arch}.cubin.gz (from $(basename "$src"))"
'
# Remove machine code whose PTX is gone.
for f in "$out"/*.cubin.gz; do
	[ -e "$f" ] || continue
	base="$(basename "$f" .cubin.gz)"
	[ -f "$ptx/${base%_*}_70.ptx" ] || { echo "gen-sass: removing stale $f"; rm -f "$f"; }
done
