package device

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Kind is the family of a device.
type Kind uint8

// Device kinds.
const (
	KindCPU Kind = iota
	KindCUDA
)

// Device identifies where a tensor's memory lives: the CPU, or the N-th
// CUDA GPU. The zero value is the CPU.
type Device struct {
	Kind  Kind
	Index int
}

// CPU returns the CPU device.
func CPU() Device { return Device{Kind: KindCPU} }

// CUDA returns the CUDA device with the given ordinal.
func CUDA(index int) Device { return Device{Kind: KindCUDA, Index: index} }

// IsCPU reports whether d is the CPU.
func (d Device) IsCPU() bool { return d.Kind == KindCPU }

// String formats d as "cpu" or "cuda:N", the syntax Parse accepts.
func (d Device) String() string {
	if d.Kind == KindCUDA {
		return "cuda:" + strconv.Itoa(d.Index)
	}
	return "cpu"
}

// ErrNoCUDA is returned when a CUDA device is requested from a binary built
// without the cuda build tag, or when no GPU is present.
var ErrNoCUDA = errors.New("device: CUDA is not available in this binary; rebuild with `go build -tags cuda` on a machine with the NVIDIA driver and a GPU, or set NABLA_CUDA=emulate to run the CUDA code path in the PTX virtual machine")

// Parse reads a device name: "cpu", "cuda" (the same as "cuda:0"),
// "cuda:N" or "auto" (Best). Asking for a CUDA device that this binary
// cannot use returns an error that says why.
func Parse(s string) (Device, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	switch {
	case name == "cpu":
		return CPU(), nil
	case name == "auto" || name == "":
		return Best(), nil
	case name == "cuda" || strings.HasPrefix(name, "cuda:"):
		idx := 0
		if rest, ok := strings.CutPrefix(name, "cuda:"); ok {
			n, err := strconv.Atoi(rest)
			if err != nil || n < 0 {
				return Device{}, fmt.Errorf("device: bad device %q: the CUDA ordinal must be a non-negative integer, as in \"cuda:0\"", s)
			}
			idx = n
		}
		d := CUDA(idx)
		if _, err := Get(d); err != nil {
			return Device{}, err
		}
		return d, nil
	}
	return Device{}, fmt.Errorf("device: unknown device %q (want cpu, cuda, cuda:N or auto)", s)
}

// MustParse is Parse for names known to be valid; it panics on error.
func MustParse(s string) Device {
	d, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// Best returns cuda:0 when a CUDA backend is linked in and a GPU answers,
// and the CPU otherwise.
func Best() Device {
	if _, err := Get(CUDA(0)); err == nil {
		return CUDA(0)
	}
	return CPU()
}

// Provider opens the backend of one CUDA device; the cuda package
// registers one with RegisterCUDA.
type Provider interface {
	// Open returns the backend for device ordinal index.
	Open(index int) (Backend, error)
	// Count returns how many devices the provider can open.
	Count() int
}

var (
	registryMu   sync.Mutex
	cudaProvider Provider
	opened       = map[Device]Backend{}
	cpuBackend   = newCPU()
)

// RegisterCUDA installs the provider for CUDA devices. It is called from the
// init function of package device/cuda.
func RegisterCUDA(p Provider) {
	registryMu.Lock()
	defer registryMu.Unlock()
	cudaProvider = p
}

// Get returns the backend of d, opening it on first use. The backend of a
// device is opened once and shared by every tensor on it.
func Get(d Device) (Backend, error) {
	if d.Kind == KindCPU {
		return cpuBackend, nil
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if b, ok := opened[d]; ok {
		return b, nil
	}
	if cudaProvider == nil {
		return nil, ErrNoCUDA
	}
	if d.Index >= cudaProvider.Count() {
		return nil, fmt.Errorf("device: %v does not exist: this machine has %d CUDA device(s)", d, cudaProvider.Count())
	}
	b, err := cudaProvider.Open(d.Index)
	if err != nil {
		return nil, fmt.Errorf("device: opening %v: %w", d, err)
	}
	opened[d] = b
	return b, nil
}

// List returns every device this binary can use, the CPU first.
func List() []Device {
	out := []Device{CPU()}
	registryMu.Lock()
	p := cudaProvider
	registryMu.Unlock()
	if p != nil {
		for i := 0; i < p.Count(); i++ {
			out = append(out, CUDA(i))
		}
	}
	return out
}
