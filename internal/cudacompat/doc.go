// Package cudacompat makes a `-tags cuda` build that would fail against
// CUDA 13 headers fail at once, with the command that fixes it.
//
// The CUDA bindings nabla uses, gorgonia.org/cu v0.9.6, do not compile
// against the cuda.h of CUDA 13: five driver API names they call now take
// different arguments (see include/cuda.h). The directory include/ holds a
// cuda.h that wraps the toolkit's and points those names back at the entry
// points the driver still exports; a build puts it first on the include
// path with
//
//	CGO_CFLAGS="-I<module root>/internal/cudacompat/include $(go env CGO_CFLAGS)"
//
// which build/build-nabla-cuda.sh and build/gpu-binaries.sh add by
// themselves when the toolkit is CUDA 13 or newer. device/cuda imports this
// package in its cuda build; the package compiles nothing but a check of
// cuda.h that stops the build with that instruction when the headers are
// CUDA 13 or newer and the wrapper is not in effect. With CUDA 11.8 or 12.x
// headers nothing is needed and the check passes.
package cudacompat
