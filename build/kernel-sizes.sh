#!/usr/bin/env bash
# Compares two sets of kernel PTX, family by family: the size of the PTX,
# its number of kernels (.entry), and how long ptxas takes to assemble it
# for sm_90 (what the driver's JIT does on a cold cache, roughly), with
# the size of the resulting cubin.
#
# The rows are the PTX the backend embeds: <family>_70.ptx of every
# family, and matmul_80.ptx (the TF32 kernels exist only from compute_80).
# The timings are wall-clock medians of RUNS runs; the before and after
# files of a family are assembled alternately, so load on a shared machine
# hits both sides alike.
#
# Usage: build/kernel-sizes.sh BEFORE_DIR AFTER_DIR
#   e.g. mkdir -p /tmp/before && git archive df4c537 kernels/ptx | tar -x -C /tmp/before
#        build/kernel-sizes.sh /tmp/before/kernels/ptx kernels/ptx
# Env: RUNS (default 3), PTXAS (default ptxas), ARCH (default sm_90),
#      FILES (space-separated basenames, default every *_70.ptx of AFTER_DIR
#      plus matmul_80.ptx).
# Needs bash, coreutils and ptxas only.
set -euo pipefail
if [ $# -ne 2 ] || [ ! -d "$1" ] || [ ! -d "$2" ]; then
	echo "usage: $0 BEFORE_DIR AFTER_DIR (directories of .ptx files)" >&2
	exit 2
fi
before=$1 after=$2
RUNS=${RUNS:-3}
PTXAS=${PTXAS:-ptxas}
ARCH=${ARCH:-sm_90}
command -v "$PTXAS" >/dev/null || { echo "kernel-sizes: $PTXAS not found" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if [ -z "${FILES:-}" ]; then
	FILES=""
	for f in "$after"/*_70.ptx; do
		FILES+="$(basename "$f" .ptx) "
	done
	[ -f "$after/matmul_80.ptx" ] && FILES+="matmul_80"
fi

# entries FILE: the number of lines that declare a kernel.
entries() {
	local n=0 line
	while IFS= read -r line; do
		case "$line" in
		*".entry "*) n=$((n + 1)) ;;
		esac
	done <"$1"
	echo "$n"
}

# assemble FILE: milliseconds ptxas took; the cubin is left in $tmp/out.cubin.
assemble() {
	local t0 t1
	t0=$(date +%s%N)
	"$PTXAS" -arch="$ARCH" "$1" -o "$tmp/out.cubin"
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

# median of the arguments (integers).
median() {
	local sorted
	sorted=($(printf '%s\n' "$@" | sort -n))
	echo "${sorted[$((${#sorted[@]} / 2))]}"
}

# secs MS: milliseconds as seconds with two decimals.
secs() {
	local cs=$((($1 + 5) / 10))
	printf '%d.%02d' $((cs / 100)) $((cs % 100))
}

# pct OLD NEW: NEW as a percentage of OLD.
pct() { if [ "$1" -gt 0 ]; then echo "$((($2 * 100 + $1 / 2) / $1))%"; else echo "-"; fi; }

fmt='%-14s %10s %10s %5s  %5s %5s  %8s %8s %5s  %10s %10s %5s\n'
printf '%-14s %-27s  %-11s  %-23s  %s\n' "" "PTX bytes" ".entry" "ptxas $ARCH (s)" "cubin $ARCH bytes"
printf "$fmt" family before after "%" before after before after "%" before after "%"
tb=0 ta=0 te_b=0 te_a=0 tt_b=0 tt_a=0 tc_b=0 tc_a=0
for name in $FILES; do
	fb="$before/$name.ptx" fa="$after/$name.ptx"
	if [ ! -f "$fb" ] || [ ! -f "$fa" ]; then
		echo "kernel-sizes: $name.ptx is missing from one side; skipped" >&2
		continue
	fi
	sb=$(stat -c %s "$fb") sa=$(stat -c %s "$fa")
	eb=$(entries "$fb") ea=$(entries "$fa")
	timesb=() timesa=()
	for _ in $(seq "$RUNS"); do
		timesb+=("$(assemble "$fb")")
		cb=$(stat -c %s "$tmp/out.cubin")
		timesa+=("$(assemble "$fa")")
		ca=$(stat -c %s "$tmp/out.cubin")
	done
	mb=$(median "${timesb[@]}") ma=$(median "${timesa[@]}")
	printf "$fmt" "$name" "$sb" "$sa" "$(pct "$sb" "$sa")" "$eb" "$ea" "$(secs "$mb")" "$(secs "$ma")" "$(pct "$mb" "$ma")" \
		"$cb" "$ca" "$(pct "$cb" "$ca")"
	tb=$((tb + sb)) ta=$((ta + sa)) te_b=$((te_b + eb)) te_a=$((te_a + ea))
	tt_b=$((tt_b + mb)) tt_a=$((tt_a + ma)) tc_b=$((tc_b + cb)) tc_a=$((tc_a + ca))
done
printf "$fmt" total "$tb" "$ta" "$(pct "$tb" "$ta")" "$te_b" "$te_a" "$(secs "$tt_b")" "$(secs "$tt_a")" "$(pct "$tt_b" "$tt_a")" \
	"$tc_b" "$tc_a" "$(pct "$tc_b" "$tc_a")"
echo "(ptxas: median of $RUNS wall-clock runs per file, before and after alternating; $($PTXAS --version | tail -1))"
