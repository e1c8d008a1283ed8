#!/usr/bin/env bash
# Writes a stand-in for CUDA 13's cuda.h, made from an installed CUDA 11.8
# or 12.x cuda.h, so that a machine without a CUDA 13 toolkit can check
# that nabla's -tags cuda build fails without internal/cudacompat's wrapper
# and builds with it (.ci/cuda-checks.sh):
#
#   build/fake-cuda13-header.sh OUTDIR [SOURCE_CUDA_H]
#
# writes OUTDIR/cuda.h (SOURCE_CUDA_H defaults to $CUDA_HOME/include/cuda.h,
# else /usr/include/cuda.h). Nothing is copied into the repository.
#
# The changes are the CUDA 13.0 ones that matter to gorgonia.org/cu v0.9.6
# and to nabla (see README.md, Supported CUDA toolkits and drivers):
#   - CUDA_VERSION 13000;
#   - cuCtxCreate maps to cuCtxCreate_v4 (CUctxCreateParams* before the
#     flags); cuCtxCreate_v3 is gone;
#   - cuMemAdvise and cuMemPrefetchAsync map to their _v2 entry points,
#     which take a CUmemLocation (and flags) instead of a CUdevice;
#   - cuGraphGetEdges and cuGraphAddDependencies map to their _v2 entry
#     points, which take CUgraphEdgeData arrays.
# It also deletes the long-deprecated cuDeviceGetProperties (and CUdevprop),
# cuDeviceComputeCapability, cuCtxAttach and cuCtxDetach, which CUDA 13.0
# still declares, to show that nothing in the build needs them. Same-
# signature renames of CUDA 13 (cuEventElapsedTime_v2, ...) are left out:
# they compile unchanged and need only the CUDA 13 libcuda to link.
set -euo pipefail
out=${1:?usage: $0 OUTDIR [SOURCE_CUDA_H]}
src=${2:-}
if [ -z "$src" ]; then
	for f in "${CUDA_HOME:-/usr/local/cuda}/include/cuda.h" /usr/include/cuda.h; do
		if [ -f "$f" ]; then src=$f; break; fi
	done
fi
[ -n "$src" ] && [ -f "$src" ] || { echo "fake-cuda13-header: no cuda.h found (install one: build/install-cuda-toolkit.sh)" >&2; exit 1; }
mkdir -p "$out"
dst="$out/cuda.h"

sed -E \
	-e 's/^#define CUDA_VERSION [0-9]+$/#define CUDA_VERSION 13000/' \
	-e 's/^(#define cuCtxCreate[[:space:]]+)cuCtxCreate_v2$/\1cuCtxCreate_v4\
#define cuMemAdvise cuMemAdvise_v2\
#define cuMemPrefetchAsync __CUDA_API_PTSZ(cuMemPrefetchAsync_v2)\
#define cuGraphGetEdges cuGraphGetEdges_v2\
#define cuGraphAddDependencies cuGraphAddDependencies_v2/' \
	-e '/^#define cuCtxCreate_v3[[:space:]]/d' \
	-e '/^[[:space:]]*#define cuMemPrefetchAsync[[:space:]]+__CUDA_API_PTSZ\(cuMemPrefetchAsync\)$/d' \
	-e 's/^CUresult CUDAAPI cuCtxCreate\(CUcontext \*pctx, unsigned int flags, CUdevice dev\);$/CUresult CUDAAPI cuCtxCreate(CUcontext *pctx, CUctxCreateParams *ctxCreateParams, unsigned int flags, CUdevice dev);/' \
	-e '/^CUresult CUDAAPI cuCtxCreate_v3\(/d' \
	-e 's/^(CUresult CUDAAPI cuMemPrefetchAsync\(CUdeviceptr devPtr, size_t count, )CUdevice dstDevice, (CUstream hStream\);)$/\1CUmemLocation location, unsigned int flags, \2/' \
	-e 's/^(CUresult CUDAAPI cuMemAdvise\(CUdeviceptr devPtr, size_t count, CUmem_advise advice, )CUdevice device\);$/\1CUmemLocation location);/' \
	-e 's/^CUresult CUDAAPI cuGraphGetEdges\(CUgraph hGraph, CUgraphNode \*from, CUgraphNode \*to, size_t \*numEdges\);$/CUresult CUDAAPI cuGraphGetEdges(CUgraph hGraph, CUgraphNode *from, CUgraphNode *to, CUgraphEdgeData *edgeData, size_t *numEdges);/' \
	-e 's/^(CUresult CUDAAPI cuGraphAddDependencies\(CUgraph hGraph, const CUgraphNode \*from, const CUgraphNode \*to, )(size_t numDependencies\);)$/\1const CUgraphEdgeData *edgeData, \2/' \
	-e '/^typedef struct CUdevprop_st \{$/,/^typedef CUdevprop_v1 CUdevprop;$/d' \
	-e '/^__CUDA_DEPRECATED CUresult CUDAAPI (cuDeviceGetProperties|cuDeviceComputeCapability|cuCtxAttach|cuCtxDetach)\(/d' \
	"$src" >"$dst"
# The two parameter types CUDA 11.8 lacks (12.3 and 12.5 added them), just
# before their first use.
if ! grep -q 'CUctxCreateParams_st' "$src"; then
	sed -i -E 's/^CUresult CUDAAPI cuCtxCreate\(CUcontext \*pctx, CUctxCreateParams /typedef struct CUctxCreateParams_st { CUexecAffinityParam *execAffinityParams; int numExecAffinityParams; void *cigParams; } CUctxCreateParams;\n&/' "$dst"
fi
if ! grep -q 'CUgraphEdgeData_st' "$src"; then
	sed -i -E 's/^CUresult CUDAAPI cuGraphGetEdges\(CUgraph hGraph, CUgraphNode \*from, CUgraphNode \*to, CUgraphEdgeData /typedef struct CUgraphEdgeData_st { unsigned char from_port; unsigned char to_port; unsigned char type; unsigned char reserved[5]; } CUgraphEdgeData;\n&/' "$dst"
fi

# Every change must have happened: a source header laid out differently
# would otherwise give a fake that tests nothing.
check() { # description, extended regex that must (+) or must not (-) match
	local want=$1 what=$2 re=$3
	if grep -Eq -- "$re" "$dst"; then found=+; else found=-; fi
	if [ "$found" != "$want" ]; then
		echo "fake-cuda13-header: $src is laid out differently than expected ($what)" >&2
		exit 1
	fi
}
check + 'CUDA_VERSION' '^#define CUDA_VERSION 13000$'
check + 'cuCtxCreate macro' '^#define cuCtxCreate[[:space:]]+cuCtxCreate_v4$'
check - 'cuCtxCreate_v3' 'cuCtxCreate_v3'
check + 'cuCtxCreate declaration' '^CUresult CUDAAPI cuCtxCreate\(CUcontext \*pctx, CUctxCreateParams \*ctxCreateParams, unsigned int flags, CUdevice dev\);$'
check + 'cuMemPrefetchAsync declaration' '^CUresult CUDAAPI cuMemPrefetchAsync\(CUdeviceptr devPtr, size_t count, CUmemLocation location, unsigned int flags, CUstream hStream\);$'
check - 'cuMemPrefetchAsync per-thread macro' '__CUDA_API_PTSZ\(cuMemPrefetchAsync\)'
check + 'cuMemAdvise declaration' '^CUresult CUDAAPI cuMemAdvise\(CUdeviceptr devPtr, size_t count, CUmem_advise advice, CUmemLocation location\);$'
check + 'cuGraphGetEdges declaration' '^CUresult CUDAAPI cuGraphGetEdges\(CUgraph hGraph, CUgraphNode \*from, CUgraphNode \*to, CUgraphEdgeData \*edgeData, size_t \*numEdges\);$'
check + 'cuGraphAddDependencies declaration' '^CUresult CUDAAPI cuGraphAddDependencies\(CUgraph hGraph, const CUgraphNode \*from, const CUgraphNode \*to, const CUgraphEdgeData \*edgeData, size_t numDependencies\);$'
check - 'CUdevprop' '^typedef struct CUdevprop_st|^typedef CUdevprop_v1'
check + 'CUctxCreateParams type' 'CUctxCreateParams_st'
check + 'CUgraphEdgeData type' 'CUgraphEdgeData_st'
check - 'deprecated declarations' 'CUDAAPI (cuDeviceGetProperties|cuDeviceComputeCapability|cuCtxAttach|cuCtxDetach)\('
echo "fake-cuda13-header: wrote $dst (from $src)"
