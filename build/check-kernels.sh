#!/usr/bin/env bash
# CI check of the CUDA kernels, without a GPU:
#   1. regenerates the PTX into a temporary directory and fails if it
#      differs from the committed kernels/ptx (run build/gen-ptx.sh);
#   2. reassembles the machine code (sm_80, sm_90) from the committed PTX
#      and fails if it differs from the committed kernels/sass (run
#      build/gen-sass.sh); the cubins are compared decompressed, so a
#      different gzip cannot fail the check;
#   3. assembles each PTX for its own architecture (sm_70 for _70, sm_80
#      for _80: the code a GPU without machine code of its own gets from
#      the JIT, give or take the target), and prints the registers, shared
#      memory and spills of each kernel of every build;
#   4. fails if a kernel spills registers (every kernel here is hot: they
#      are all on some op's path). Set ALLOW_SPILLS=1 to only report.
# Env: VERBOSE=1 prints the table for every kernel and build (the default
# prints the sm_90 table and a summary per module and target).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
command -v ptxas >/dev/null || { echo "check-kernels: ptxas not found; run build/install-cuda-toolkit.sh" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "== check-kernels: nvcc $(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
echo "== regenerating PTX"
bash build/gen-ptx.sh "$tmp/ptx" >/dev/null
# nvcc 11.8 is not perfectly deterministic: about one compile in sixteen
# of some files numbers its virtual registers differently. A file that
# differs is recompiled a few times and passes if any run reproduces the
# committed PTX; a real source change never does.
for f in kernels/ptx/*.ptx; do
	g="$tmp/ptx/$(basename "$f")"
	[ -f "$g" ] || continue
	tries=0
	while ! cmp -s "$f" "$g" && [ "$tries" -lt 6 ]; do
		tries=$((tries + 1))
		name="$(basename "$f" .ptx)"
		(cd kernels && nvcc -std=c++17 -ptx -arch="compute_${name##*_}" -O3 "${name%_*}.cu" -o "$g")
	done
	if [ "$tries" != 0 ] && cmp -s "$f" "$g"; then
		echo "check-kernels: $f reproduced after $tries recompile(s)"
	fi
done
if ! diff -r -q kernels/ptx "$tmp/ptx"; then
	echo "check-kernels: kernels/ptx does not match kernels/*.cu: run build/gen-ptx.sh (with nvcc 11.8) and build/gen-sass.sh, and commit the result" >&2
	committed="$(sed -n 's/^\/\/ Cuda compilation tools, \(.*\)$/\1/p' kernels/ptx/*.ptx | sort -u | head -1)"
	echo "check-kernels: committed PTX was made by: $committed" >&2
	exit 1
fi
echo "PTX matches the sources ($(ls kernels/ptx/*.ptx | wc -l) files)"

echo "== reassembling machine code"
logs="$tmp/logs"
bash build/gen-sass.sh kernels/ptx "$tmp/sass" "$logs" >/dev/null
committed="$(cd kernels/sass && ls)"
fresh="$(cd "$tmp/sass" && ls)"
if [ "$committed" != "$fresh" ]; then
	echo "check-kernels: kernels/sass holds [$committed], the PTX gives [$fresh]: run build/gen-sass.sh and commit the result" >&2
	exit 1
fi
for f in kernels/sass/*.cubin.gz; do
	if ! cmp -s <(gzip -dc "$f") <(gzip -dc "$tmp/sass/$(basename "$f")"); then
		echo "check-kernels: $f is not the assembly of the committed PTX: run build/gen-sass.sh (with ptxas 11.8) and commit the result" >&2
		exit 1
	fi
done
echo "machine code matches the PTX ($(ls kernels/sass/*.cubin.gz | wc -l) cubins)"

echo "== assembling each PTX for its own architecture"
for f in kernels/ptx/*.ptx; do
	name="$(basename "$f" .ptx)"
	log="$logs/${name}_ptx.log"
	if ! ptxas -arch="sm_${name##*_}" -v "$f" -o /dev/null >"$log" 2>&1; then
		cat "$log" >&2
		echo "check-kernels: ptxas -arch=sm_${name##*_} failed on $f" >&2
		exit 1
	fi
done

# ptxas -v prints, per kernel:
#   Compiling entry function 'k' for 'sm_90'
#   Function properties for k
#       S bytes stack frame, X bytes spill stores, Y bytes spill loads
#   Used R registers, M bytes smem, ...
report="$tmp/report.txt"
for log in "$logs"/*.log; do
	awk -v mod="$(basename "$log" .log)" '
		/Compiling entry function/ {
			match($0, /'"'"'[^'"'"']+'"'"'/); k = substr($0, RSTART+1, RLENGTH-2)
			match($0, /for '"'"'sm_[0-9]+'"'"'/); sm = substr($0, RSTART+5, RLENGTH-6)
		}
		/bytes stack frame/ { stack = $1; st = $5; ld = $9 }
		/Used [0-9]+ registers/ {
			regs = $5; smem = 0
			if (match($0, /[0-9]+ bytes smem/)) { smem = substr($0, RSTART, RLENGTH); sub(/ bytes smem/, "", smem) }
			printf "%s %s %s %d %d %d %d %d\n", mod, sm, k, regs, smem, stack, st, ld
		}' "$log"
done >"$report"

hdr='%-16s %-6s %-22s %5s %6s %6s %6s %6s\n'
if [ "${VERBOSE:-0}" = 1 ]; then
	printf "$hdr" build arch kernel regs smem stack spillS spillL
	sort -k1,1 -k2,2 -k3,3 "$report" | awk -v h="$hdr" '{printf h, $1, $2, $3, $4, $5, $6, $7, $8}'
else
	echo "-- sm_90 machine code (what an H100 runs):"
	printf "$hdr" build arch kernel regs smem stack spillS spillL
	awk '$2 == "sm_90"' "$report" | sort -k1,1 -k3,3 | awk -v h="$hdr" '{printf h, $1, $2, $3, $4, $5, $6, $7, $8}'
fi
echo "-- summary per build (<module>_<sm> machine code, <module>_<arch>_ptx PTX at its own target):"
awk '{ key = $1 " " $2; n[key]++; if ($4 > mx[key]) mx[key] = $4; if ($7 + $8 > 0) sp[key]++ }
	END { for (k in n) printf "%-22s %-6s kernels=%-4d maxregs=%-4d spilling=%d\n", substr(k, 1, index(k, " ")-1), substr(k, index(k, " ")+1), n[k], mx[k], sp[k] + 0 }' "$report" | sort
spills="$(awk '$7 + $8 > 0' "$report")"
if [ -n "$spills" ]; then
	echo "check-kernels: kernels that spill registers:" >&2
	echo "$spills" | awk -v h="$hdr" '{printf h, $1, $2, $3, $4, $5, $6, $7, $8}' >&2
	[ "${ALLOW_SPILLS:-0}" = 1 ] || exit 1
fi
echo "check-kernels: OK ($(wc -l <"$report") kernel builds, no spills)"
