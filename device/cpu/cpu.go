package cpu

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	cpuid "golang.org/x/sys/cpu"

	"github.com/nabla-go/nabla/device"
)

// cpuBuffer is host memory: data holds a []float32, []float64, []int64,
// []bool or []uint8 according to dt.
type cpuBuffer struct {
	dt   device.DType
	data any
	// lease is set when the memory is recycled through cpuCache (see
	// alloc.go).
	lease *hostLease
}

func (b *cpuBuffer) DType() device.DType { return b.dt }

func (b *cpuBuffer) Len() int {
	switch s := b.data.(type) {
	case []float32:
		return len(s)
	case []float64:
		return len(s)
	case []int64:
		return len(s)
	case []bool:
		return len(s)
	case []uint8:
		return len(s)
	}
	return 0
}

// host is the pure-Go CPU backend. It is stateless: every call works on the
// caller's goroutine, spreading large operations over GOMAXPROCS goroutines.
type host struct{}

func newCPU() *host { return &host{} }

// cpuBackend is the CPU backend. It holds no state, so one serves every
// caller.
var cpuBackend = newCPU()

// The CPU backend becomes device.CPU() when this package is linked in, as
// the CUDA backend becomes cuda:N.
func init() { device.Register(device.KindCPU, provider{}) }

// provider opens the one CPU device for package device.
type provider struct{}

func (provider) Open(int) (device.Backend, error) { return cpuBackend, nil }

func (provider) Count() int { return 1 }

func (c *host) Device() device.Device { return device.CPU() }

// Alloc makes a buffer of n elements. A request larger than the CPU
// memory limit (MemoryLimit) fails with a *device.MemoryError before the Go
// runtime is asked: the runtime cannot fail an allocation, it ends the
// process.
func (c *host) Alloc(dt device.DType, n int) (device.Buffer, error) {
	if n < 0 {
		return nil, fmt.Errorf("device: cpu: cannot allocate %d elements of %v", n, dt)
	}
	if !dt.Valid() {
		return nil, fmt.Errorf("device: cpu: unknown dtype %v", dt)
	}
	if err := CheckAlloc(dt, n); err != nil {
		return nil, err
	}
	if cb := cpuCache.alloc(dt, n); cb != nil {
		return cb, nil
	}
	var data any
	switch dt {
	case device.Float32:
		data = make([]float32, n)
	case device.Float64:
		data = make([]float64, n)
	case device.Int64:
		data = make([]int64, n)
	case device.Bool:
		data = make([]bool, n)
	case device.Uint8:
		data = make([]uint8, n)
	default:
		return nil, fmt.Errorf("device: cpu: unknown dtype %v", dt)
	}
	return &cpuBuffer{dt: dt, data: data}, nil
}

// Data returns the Go slice behind a CPU buffer, or nil for buffers of
// other backends. It lets host-side code (tensor printing, file writers)
// read CPU memory without a copy. The slice may outlive the buffer, so a
// buffer handed out this way is never recycled.
func Data(b device.Buffer) any {
	if cb, ok := b.(*cpuBuffer); ok {
		if cb.lease != nil {
			cb.lease.escaped.Store(true)
		}
		return cb.data
	}
	return nil
}

// Bytes returns the memory of a CPU buffer as bytes, without a copy,
// or nil for buffers of other backends. The bytes are the elements in the
// machine's byte order; a Bool element is one byte that must be 0 or 1.
// File readers use it to read data straight into a tensor's memory.
func Bytes(b device.Buffer) []byte {
	cb, ok := b.(*cpuBuffer)
	if !ok {
		return nil
	}
	n := cb.Len() * cb.dt.Size()
	if n == 0 {
		return []byte{}
	}
	var p unsafe.Pointer
	switch s := cb.data.(type) {
	case []float32:
		p = unsafe.Pointer(unsafe.SliceData(s))
	case []float64:
		p = unsafe.Pointer(unsafe.SliceData(s))
	case []int64:
		p = unsafe.Pointer(unsafe.SliceData(s))
	case []bool:
		p = unsafe.Pointer(unsafe.SliceData(s))
	case []uint8:
		p = unsafe.Pointer(unsafe.SliceData(s))
	}
	return unsafe.Slice((*byte)(p), n)
}

// Wrap makes a CPU buffer that uses the slice data ([]float32,
// []float64, []int64, []bool or []uint8) without copying it.
func Wrap(data any) (device.Buffer, error) {
	switch data.(type) {
	case []float32:
		return &cpuBuffer{dt: device.Float32, data: data}, nil
	case []float64:
		return &cpuBuffer{dt: device.Float64, data: data}, nil
	case []int64:
		return &cpuBuffer{dt: device.Int64, data: data}, nil
	case []bool:
		return &cpuBuffer{dt: device.Bool, data: data}, nil
	case []uint8:
		return &cpuBuffer{dt: device.Uint8, data: data}, nil
	}
	return nil, fmt.Errorf("device: cannot wrap %T as a buffer", data)
}

var errHostMismatch = errors.New("device: host slice does not match the buffer's dtype and length")

func (c *host) Upload(dst device.Buffer, src any) error { return hostCopy(dst, src, true) }

func (c *host) Download(dst any, src device.Buffer) error { return hostCopy(src, dst, false) }

func hostCopy(buf device.Buffer, host any, upload bool) error {
	cb, ok := buf.(*cpuBuffer)
	if !ok {
		return fmt.Errorf("device: cpu: buffer %T is not CPU memory", buf)
	}
	var n int
	switch h := host.(type) {
	case []float32:
		n = copyChecked(cb.data, h, upload)
	case []float64:
		n = copyChecked(cb.data, h, upload)
	case []int64:
		n = copyChecked(cb.data, h, upload)
	case []bool:
		n = copyChecked(cb.data, h, upload)
	case []uint8:
		n = copyChecked(cb.data, h, upload)
	default:
		n = -1
	}
	if n < 0 {
		return fmt.Errorf("%w (%v[%d] vs %T)", errHostMismatch, cb.dt, cb.Len(), host)
	}
	return nil
}

func copyChecked[T any](data any, host []T, upload bool) int {
	d, ok := data.([]T)
	if !ok || len(d) != len(host) {
		return -1
	}
	if upload {
		return copy(d, host)
	}
	return copy(host, d)
}

func (c *host) Synchronize() error { return nil }

// slice returns the typed slice of a CPU view, or an error naming op when
// the buffer belongs to another backend or has another dtype.
func slice[T any](op string, v device.View) ([]T, error) {
	cb, ok := v.Buf.(*cpuBuffer)
	if !ok {
		return nil, fmt.Errorf("device: cpu: %s: buffer %T is not CPU memory", op, v.Buf)
	}
	s, ok := cb.data.([]T)
	if !ok {
		var zero T
		return nil, fmt.Errorf("device: cpu: %s: buffer holds %v, kernel wants %T", op, cb.dt, zero)
	}
	if v.Numel() > 0 && v.Offset+v.Span() > len(s) {
		return nil, fmt.Errorf("device: cpu: %s: view (offset %d, shape %v, strides %v) overruns a buffer of %d elements",
			op, v.Offset, v.Shape, v.Strides, len(s))
	}
	return s, nil
}

func unsupported(op string, dt device.DType) error {
	return fmt.Errorf("device: cpu: %s is not implemented for %v", op, dt)
}

// Describe reports the CPU's core count and the SIMD extensions present.
func (c *host) Describe() (device.Info, error) {
	var feats []string
	for _, f := range []struct {
		name string
		has  bool
	}{
		{"sse4.2", cpuid.X86.HasSSE42}, {"avx", cpuid.X86.HasAVX}, {"avx2", cpuid.X86.HasAVX2},
		{"fma", cpuid.X86.HasFMA}, {"avx512f", cpuid.X86.HasAVX512F}, {"avx512bw", cpuid.X86.HasAVX512BW},
		{"avx512vl", cpuid.X86.HasAVX512VL}, {"asimd", cpuid.ARM64.HasASIMD},
	} {
		if f.has {
			feats = append(feats, f.name)
		}
	}
	name := fmt.Sprintf("%s/%s CPU", runtime.GOOS, runtime.GOARCH)
	if simdLimited() {
		name += " (NABLA_CPU_SIMD=" + simdName() + ")"
	}
	return device.Info{
		Device:   device.CPU(),
		Name:     name,
		Cores:    runtime.GOMAXPROCS(0),
		Features: feats,
	}, nil
}
