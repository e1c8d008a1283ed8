// Package kernels holds nabla's hand-written CUDA kernels: the .cu
// sources, the PTX that build/gen-ptx.sh compiles from them, and the
// machine code (SASS cubins) that build/gen-sass.sh assembles from that
// PTX for sm_80 and sm_90. Both are committed and embedded, so building
// the CUDA backend (go build -tags cuda) needs no CUDA compiler.
//
// A module is one .cu file (one kernel family): "unary", "binary",
// "copy", "reduce", "softmax", "matmul", "index", "random", "conv",
// "pool", "optim", "bias", "loss", "activation", "batchnorm". Each has
// one PTX text for compute_70, plus one for a newer virtual architecture
// only where its source differs there (matmul's TF32 path at compute_80),
// and machine code for sm_80 (A100; A10, L4 and the RTX 30 and 40 series
// run it too) and sm_90 (H100, H200). Choose picks what a device loads:
// machine code when there is some for its architecture, so that the
// driver's JIT compiler never runs on those GPUs, and otherwise the
// newest PTX the device can JIT-compile.
//
// This package is plain Go without cgo and is part of the default build.
package kernels

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

//go:embed ptx/*.ptx sass/*.cubin.gz
var files embed.FS

// Form is the kind of code an Image holds.
type Form uint8

const (
	// PTX is assembly for a virtual architecture; the driver JIT-compiles
	// it for the GPU it runs on.
	PTX Form = iota + 1
	// SASS is machine code (an ELF cubin) for one GPU architecture; it
	// runs on devices of the same major compute capability and an equal
	// or higher minor one.
	SASS
)

func (f Form) String() string {
	switch f {
	case PTX:
		return "PTX"
	case SASS:
		return "machine code"
	}
	return "Form(" + strconv.Itoa(int(f)) + ")"
}

// Image is the code of one module for one architecture, in the form
// cuModuleLoadData takes.
type Image struct {
	Module string
	Form   Form
	// Arch is the compute capability times ten the code was built for:
	// the virtual architecture compute_<Arch> of PTX, the real
	// architecture sm_<Arch> of machine code.
	Arch int
	// Data is the PTX text followed by a NUL byte (the driver reads PTX
	// as a C string), or the cubin.
	Data []byte
}

// String names the image's form and architecture, as "sm_90 machine
// code" or "compute_70 PTX".
func (im Image) String() string {
	if im.Form == SASS {
		return fmt.Sprintf("sm_%d machine code", im.Arch)
	}
	return fmt.Sprintf("compute_%d PTX", im.Arch)
}

// Modules returns the names of the embedded modules, sorted.
func Modules() []string {
	var out []string
	for _, f := range list("ptx", ".ptx") {
		if !slices.Contains(out, f.module) {
			out = append(out, f.module)
		}
	}
	slices.Sort(out)
	return out
}

// PTXArchs returns the virtual architectures module has PTX for, in
// increasing order.
func PTXArchs(module string) []int { return archs("ptx", ".ptx", module) }

// SASSArchs returns the architectures module has machine code for, in
// increasing order.
func SASSArchs(module string) []int { return archs("sass", ".cubin.gz", module) }

// Choose returns the code of module for a device of compute capability
// major.minor. With machineCode set, that is the machine code of the
// newest architecture the device runs (sm_90 for 9.0; sm_80 for 8.0,
// 8.6 and 8.9), if the module has one; otherwise, or without
// machineCode (the PTX virtual machine runs PTX only), it is the newest
// PTX not newer than the device (compute_70 for a V100 or a T4, and for
// GPUs newer than the machine code, such as compute capability 10.0 or
// 12.0, PTX the driver JIT-compiles). Devices older than 7.0 are refused.
func Choose(module string, major, minor int, machineCode bool) (Image, error) {
	form, arch, err := Which(module, major, minor, machineCode)
	if err != nil {
		return Image{}, err
	}
	im := Image{Module: module, Form: form, Arch: arch}
	if form == SASS {
		im.Data, err = readCubin(module, arch)
		return im, err
	}
	src, err := files.ReadFile(ptxPath(module, arch))
	if err != nil {
		return Image{}, fmt.Errorf("kernels: %w", err)
	}
	im.Data = make([]byte, len(src)+1)
	copy(im.Data, src)
	return im, nil
}

// Which returns the form and architecture of the code Choose returns,
// without reading it.
func Which(module string, major, minor int, machineCode bool) (Form, int, error) {
	ptxArchs := PTXArchs(module)
	if len(ptxArchs) == 0 {
		return 0, 0, fmt.Errorf("kernels: no module %q (known modules: %s)", module, strings.Join(Modules(), ", "))
	}
	cc := major*10 + minor
	if machineCode {
		best := 0
		for _, a := range SASSArchs(module) {
			if a/10 == major && a <= cc {
				best = a
			}
		}
		if best != 0 {
			return SASS, best, nil
		}
	}
	best := 0
	for _, a := range ptxArchs {
		if a <= cc {
			best = a
		}
	}
	if best == 0 {
		return 0, 0, fmt.Errorf("kernels: compute capability %d.%d is not supported (nabla's kernels need %d.%d or newer)",
			major, minor, ptxArchs[0]/10, ptxArchs[0]%10)
	}
	return PTX, best, nil
}

// PTXText returns the PTX text of module for a device of compute
// capability major.minor (the one Choose returns without machine code)
// and the virtual architecture it was generated for.
func PTXText(module string, major, minor int) (src string, arch int, err error) {
	im, err := Choose(module, major, minor, false)
	if err != nil {
		return "", 0, err
	}
	return string(im.Data[:len(im.Data)-1]), im.Arch, nil
}

func ptxPath(module string, arch int) string { return fmt.Sprintf("ptx/%s_%d.ptx", module, arch) }

func sassPath(module string, arch int) string {
	return fmt.Sprintf("sass/%s_%d.cubin.gz", module, arch)
}

// readCubin decompresses the embedded machine code of module for sm_arch.
func readCubin(module string, arch int) ([]byte, error) {
	gz, err := files.ReadFile(sassPath(module, arch))
	if err != nil {
		return nil, fmt.Errorf("kernels: %w", err)
	}
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("kernels: %s: %w", sassPath(module, arch), err)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("kernels: %s: %w", sassPath(module, arch), err)
	}
	return data, nil
}

// file is one embedded file named "<module>_<arch><suffix>".
type file struct {
	module string
	arch   int
}

func list(dir, suffix string) []file {
	entries, _ := files.ReadDir(dir)
	var out []file
	for _, e := range entries {
		base, ok := strings.CutSuffix(e.Name(), suffix)
		i := strings.LastIndexByte(base, '_')
		if !ok || i <= 0 {
			continue
		}
		arch, err := strconv.Atoi(base[i+1:])
		if err != nil {
			continue
		}
		out = append(out, file{base[:i], arch})
	}
	return out
}

func archs(dir, suffix, module string) []int {
	var out []int
	for _, f := range list(dir, suffix) {
		if f.module == module {
			out = append(out, f.arch)
		}
	}
	slices.Sort(out)
	return out
}
