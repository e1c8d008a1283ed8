/*
 * nabla's compatibility wrapper around the CUDA toolkit's cuda.h.
 *
 * gorgonia.org/cu v0.9.6, the CUDA driver bindings nabla builds on, was
 * written against the CUDA 11/12 headers. CUDA 13's cuda.h points five of
 * the names it calls at newer entry points whose arguments differ, so the
 * package no longer compiles:
 *
 *   name                    CUDA 13 maps it to         what changed
 *   cuCtxCreate             cuCtxCreate_v4             new CUctxCreateParams* argument
 *   cuMemAdvise             cuMemAdvise_v2             device -> CUmemLocation
 *   cuMemPrefetchAsync      cuMemPrefetchAsync_v2      device -> CUmemLocation, flags
 *   cuGraphGetEdges         cuGraphGetEdges_v2         new CUgraphEdgeData* argument
 *   cuGraphAddDependencies  cuGraphAddDependencies_v2  new CUgraphEdgeData* argument
 *
 * Put the directory holding this file first on the include path
 * (CGO_CFLAGS=-I<absolute path of this directory>; build/build-nabla-cuda.sh
 * and build/gpu-binaries.sh do it when they find CUDA 13 headers). This file
 * includes the toolkit's cuda.h and then, for CUDA 13 and later only, points
 * those five names back at the entry points they named before, declared
 * here with the signatures of the CUDA 12 driver API reference. The driver
 * library keeps exporting those entry points (libcuda.so keeps every
 * earlier entry point so that programs built with older toolkits run on
 * newer drivers), so the program links and runs against a CUDA 13 driver
 * as well as an older one. With CUDA 12 or older headers this file adds
 * nothing but the marker below.
 *
 * NABLA_CUDA_COMPAT tells internal/cudacompat that the wrapper is in effect;
 * without it, a build with CUDA 13 headers stops there with the command to
 * run instead of with gorgonia.org/cu's type errors.
 */
#ifndef NABLA_CUDA_COMPAT
#define NABLA_CUDA_COMPAT 1

#include_next <cuda.h>

#if defined(CUDA_VERSION) && CUDA_VERSION >= 13000

#ifdef __cplusplus
extern "C" {
#endif

/* Each name is redirected only if the toolkit's header made it a macro
 * (the way CUDA 13.0 selects the new versions); a header that declares the
 * name as a function of its own is left alone. */

#ifdef cuCtxCreate
#undef cuCtxCreate
#define cuCtxCreate cuCtxCreate_v2
CUresult CUDAAPI cuCtxCreate_v2(CUcontext *pctx, unsigned int flags, CUdevice dev);
#endif

#ifdef cuMemAdvise
#undef cuMemAdvise
CUresult CUDAAPI cuMemAdvise(CUdeviceptr devPtr, size_t count, CUmem_advise advice, CUdevice device);
#endif

#ifdef cuMemPrefetchAsync
#undef cuMemPrefetchAsync
#if defined(__CUDA_API_PER_THREAD_DEFAULT_STREAM)
#define cuMemPrefetchAsync cuMemPrefetchAsync_ptsz
CUresult CUDAAPI cuMemPrefetchAsync_ptsz(CUdeviceptr devPtr, size_t count, CUdevice dstDevice, CUstream hStream);
#else
CUresult CUDAAPI cuMemPrefetchAsync(CUdeviceptr devPtr, size_t count, CUdevice dstDevice, CUstream hStream);
#endif
#endif

#ifdef cuGraphGetEdges
#undef cuGraphGetEdges
CUresult CUDAAPI cuGraphGetEdges(CUgraph hGraph, CUgraphNode *from, CUgraphNode *to, size_t *numEdges);
#endif

#ifdef cuGraphAddDependencies
#undef cuGraphAddDependencies
CUresult CUDAAPI cuGraphAddDependencies(CUgraph hGraph, const CUgraphNode *from, const CUgraphNode *to, size_t numDependencies);
#endif

#ifdef __cplusplus
}
#endif

#endif /* CUDA_VERSION >= 13000 */

#endif /* NABLA_CUDA_COMPAT */
