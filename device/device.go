package device

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// Provider opens the backends of the devices of one kind. Each backend
// package registers its provider with Register from its init function:
// device/cpu for the CPU, device/cuda for CUDA GPUs.
type Provider interface {
	// Open returns the backend for device ordinal index.
	Open(index int) (Backend, error)
	// Count returns how many devices the provider can open.
	Count() int
}

var (
	registryMu sync.Mutex
	providers  = map[Kind]Provider{} // every kind but the CPU
	opened     = map[Device]Backend{}
	// host is the CPU's registration, read without the lock: every tensor
	// made on the CPU asks for its backend, and a provider's Open (a fake
	// GPU in a test, say) may ask for the CPU's while Get holds the lock.
	host atomic.Pointer[hostSlot]
)

// hostSlot is a registered CPU provider and the backend it opened.
type hostSlot struct {
	p    Provider
	once sync.Once
	b    Backend
	err  error
}

// errNoCPU is Get's error for the CPU when no CPU backend is linked in:
// package device holds only the contract, and the backend registers itself
// when its package is imported.
var errNoCPU = errors.New("device: the CPU backend is not linked into this binary; import github.com/nabla-go/nabla/device/cpu (package tensor imports it)")

// Register installs the provider of the devices of kind k, replacing any
// earlier one. Backend packages call it from their init functions.
func Register(k Kind, p Provider) {
	if k == KindCPU {
		host.Store(&hostSlot{p: p})
		return
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	providers[k] = p
}

// RegisterCUDA installs the provider for CUDA devices: Register(KindCUDA, p).
func RegisterCUDA(p Provider) { Register(KindCUDA, p) }

// Get returns the backend of d, opening it on first use. The backend of a
// device is opened once and shared by every tensor on it.
func Get(d Device) (Backend, error) {
	if d.Kind == KindCPU {
		return openHost() // one host, whatever the ordinal
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if b, ok := opened[d]; ok {
		return b, nil
	}
	p := providers[d.Kind]
	if p == nil {
		return nil, ErrNoCUDA
	}
	if d.Index >= p.Count() {
		return nil, fmt.Errorf("device: %v does not exist: this machine has %d CUDA device(s)", d, p.Count())
	}
	b, err := p.Open(d.Index)
	if err != nil {
		return nil, fmt.Errorf("device: opening %v: %w", d, err)
	}
	opened[d] = b
	return b, nil
}

// openHost returns the CPU backend, opening it on first use.
func openHost() (Backend, error) {
	s := host.Load()
	if s == nil || s.p == nil {
		return nil, errNoCPU
	}
	s.once.Do(func() {
		s.b, s.err = s.p.Open(0)
		if s.err != nil {
			s.err = fmt.Errorf("device: opening %v: %w", CPU(), s.err)
		}
	})
	return s.b, s.err
}

// List returns every device this binary can use, the CPU first.
func List() []Device {
	out := []Device{CPU()}
	registryMu.Lock()
	p := providers[KindCUDA]
	registryMu.Unlock()
	if p != nil {
		for i := 0; i < p.Count(); i++ {
			out = append(out, CUDA(i))
		}
	}
	return out
}
