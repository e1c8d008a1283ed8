#!/usr/bin/env bash
# CI check of the CUDA kernels, without a GPU:
#   1. regenerates the PTX into a temporary directory and fails if it
#      differs from the committed kernels/ptx (run build/gen-ptx.sh);
#   2. assembles every PTX with ptxas for sm_90 (H100), and the _80 files
#      for sm_80, the _70 files for sm_70, and prints the registers,
#      shared memory and spills of each kernel;
#   3. fails if a kernel spills registers (every kernel here is hot: they
#      are all on some op's path). Set ALLOW_SPILLS=1 to only report.
# Env: VERBOSE=1 prints the table for every kernel and architecture (the
# default prints the sm_90 table and a summary per module/arch).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
command -v ptxas >/dev/null || { echo "check-ptx: ptxas not found; run build/install-cuda-toolkit.sh" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "== check-ptx: nvcc $(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
echo "== regenerating PTX"
bash build/gen-ptx.sh "$tmp/ptx" >/dev/null
# nvcc 11.8 is not perfectly deterministic: about one compile in sixteen
# of some files numbers its virtual registers differently. A file that
# differs is recompiled a few times and passes if any run reproduces the
# committed PTX; a real source change never does.
for f in kernels/ptx/*.ptx; do
	g="$tmp/ptx/$(basename "$f")"
	tries=0
	while ! cmp -s "$f" "$g" && [ "$tries" -lt 6 ]; do
		tries=$((tries + 1))
		name="$(basename "$f" .ptx)"
		(cd kernels && nvcc -std=c++17 -ptx -arch="compute_${name##*_}" -O3 "${name%_*}.cu" -o "$g")
	done
	if [ "$tries" != 0 ] && cmp -s "$f" "$g"; then
		echo "check-ptx: $f reproduced after $tries recompile(s)"
	fi
done
if ! diff -r -q kernels/ptx "$tmp/ptx"; then
	echo "check-ptx: kernels/ptx does not match kernels/*.cu: run build/gen-ptx.sh (with nvcc 11.8) and commit the result" >&2
	committed="$(sed -n 's/^\/\/ Cuda compilation tools, \(.*\)$/\1/p' kernels/ptx/*.ptx | sort -u | head -1)"
	echo "check-ptx: committed PTX was made by: $committed" >&2
	exit 1
fi
echo "PTX matches the sources ($(ls kernels/ptx/*.ptx | wc -l) files)"

echo "== assembling with ptxas"
report="$tmp/report.txt"
: >"$report"
assemble() { # file sm
	local f=$1 sm=$2 log="$tmp/$(basename "$1" .ptx).$2.log"
	if ! ptxas -arch="$sm" -v "$f" -o /dev/null >"$log" 2>&1; then
		cat "$log" >&2
		echo "check-ptx: ptxas -arch=$sm failed on $f" >&2
		return 1
	fi
	# ptxas -v prints, per kernel:
	#   Compiling entry function 'k' for 'sm_90'
	#   Function properties for k
	#       S bytes stack frame, X bytes spill stores, Y bytes spill loads
	#   Used R registers, M bytes smem, ...
	awk -v mod="$(basename "$f" .ptx)" -v sm="$sm" '
		/Compiling entry function/ { match($0, /'"'"'[^'"'"']+'"'"'/); k = substr($0, RSTART+1, RLENGTH-2); smem = 0 }
		/bytes stack frame/ { stack = $1; st = $5; ld = $9 }
		/Used [0-9]+ registers/ {
			regs = $5; smem = 0
			if (match($0, /[0-9]+ bytes smem/)) { smem = substr($0, RSTART, RLENGTH); sub(/ bytes smem/, "", smem) }
			printf "%s %s %s %d %d %d %d %d\n", mod, sm, k, regs, smem, stack, st, ld
		}' "$log" >>"$report"
}
fail=0
for f in kernels/ptx/*.ptx; do
	assemble "$f" sm_90 || fail=1
	case "$f" in
	*_80.ptx) assemble "$f" sm_80 || fail=1 ;;
	*_70.ptx) assemble "$f" sm_70 || fail=1 ;;
	esac
done
[ "$fail" = 0 ] || exit 1

hdr='%-16s %-6s %-22s %5s %6s %6s %6s %6s\n'
if [ "${VERBOSE:-0}" = 1 ]; then
	printf "$hdr" module arch kernel regs smem stack spillS spillL
	sort -k1,1 -k2,2 -k3,3 "$report" | awk -v h="$hdr" '{printf h, $1, $2, $3, $4, $5, $6, $7, $8}'
else
	echo "-- sm_90 (PTX for compute_90, what an H100 runs):"
	printf "$hdr" module arch kernel regs smem stack spillS spillL
	awk '$1 ~ /_90$/ && $2 == "sm_90"' "$report" | sort -k1,1 -k3,3 | awk -v h="$hdr" '{printf h, $1, $2, $3, $4, $5, $6, $7, $8}'
fi
echo "-- summary per module and target (kernels, max registers, kernels with spills):"
awk '{ key = $1 " " $2; n[key]++; if ($4 > mx[key]) mx[key] = $4; if ($7 + $8 > 0) sp[key]++ }
	END { for (k in n) printf "%-22s %-6s kernels=%-4d maxregs=%-4d spilling=%d\n", substr(k, 1, index(k, " ")-1), substr(k, index(k, " ")+1), n[k], mx[k], sp[k] + 0 }' "$report" | sort
spills="$(awk '$7 + $8 > 0' "$report")"
if [ -n "$spills" ]; then
	echo "check-ptx: kernels that spill registers:" >&2
	echo "$spills" | awk -v h="$hdr" '{printf h, $1, $2, $3, $4, $5, $6, $7, $8}' >&2
	[ "${ALLOW_SPILLS:-0}" = 1 ] || exit 1
fi
echo "check-ptx: OK ($(wc -l <"$report") kernel builds, no spills)"
