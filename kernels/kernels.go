// Package kernels holds nabla's hand-written CUDA kernels: the .cu
// sources, and the PTX that build/gen-ptx.sh compiles from them for the
// virtual architectures compute_70, compute_80 and compute_90. The PTX is
// committed and embedded, so building the CUDA backend (go build -tags
// cuda) needs no CUDA compiler; the driver JIT-compiles the PTX for the
// GPU it runs on.
//
// A module is one .cu file (one kernel family): "unary", "binary",
// "copy", "reduce", "softmax", "matmul", "index", "random", "conv",
// "pool", "optim", "bias", "loss", "activation", "batchnorm". This package is plain Go without cgo and is part of
// the default build.
package kernels

import (
	"embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

//go:embed ptx/*.ptx
var ptxFS embed.FS

// Archs are the virtual architectures the PTX is generated for, as
// compute capability times ten, in increasing order.
var Archs = []int{70, 80, 90}

// Modules returns the names of the embedded modules, sorted.
func Modules() []string {
	seen := map[string]bool{}
	entries, _ := ptxFS.ReadDir("ptx")
	for _, e := range entries {
		name, _, ok := splitName(e.Name())
		if ok {
			seen[name] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// splitName parses "<module>_<arch>.ptx".
func splitName(file string) (module string, arch int, ok bool) {
	base, found := strings.CutSuffix(file, ".ptx")
	if !found {
		return "", 0, false
	}
	i := strings.LastIndexByte(base, '_')
	if i <= 0 {
		return "", 0, false
	}
	a, err := strconv.Atoi(base[i+1:])
	if err != nil {
		return "", 0, false
	}
	return base[:i], a, true
}

// Select returns the architecture (compute capability times ten) of the
// newest PTX not newer than a device of compute capability major.minor:
// 90 for an H100 (9.0) and for newer GPUs, 80 for an A100 (8.0) or an
// RTX 4090 (8.9), 70 for a V100 (7.0) or a T4 (7.5). It fails for devices
// older than compute capability 7.0.
func Select(major, minor int) (int, error) {
	cc := major*10 + minor
	best := 0
	for _, a := range Archs {
		if a <= cc {
			best = a
		}
	}
	if best == 0 {
		return 0, fmt.Errorf("kernels: compute capability %d.%d is not supported (nabla's PTX needs %d.%d or newer)",
			major, minor, Archs[0]/10, Archs[0]%10)
	}
	return best, nil
}

// PTX returns the PTX text of module for a device of compute capability
// major.minor (see Select) and the architecture it was generated for.
func PTX(module string, major, minor int) (src string, arch int, err error) {
	arch, err = Select(major, minor)
	if err != nil {
		return "", 0, err
	}
	b, err := ptxFS.ReadFile(fmt.Sprintf("ptx/%s_%d.ptx", module, arch))
	if err != nil {
		return "", 0, fmt.Errorf("kernels: no PTX for module %q at compute_%d (known modules: %s)", module, arch, strings.Join(Modules(), ", "))
	}
	return string(b), arch, nil
}
