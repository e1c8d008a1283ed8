package device

import (
	"errors"
	"fmt"
	"unsafe"
)

// cpuBuffer is host memory: data holds a []float32, []float64, []int64,
// []bool or []uint8 according to dt.
type cpuBuffer struct {
	dt   DType
	data any
	// lease is set when the memory is recycled through cpuCache (see
	// cpu_alloc.go).
	lease *hostLease
}

func (b *cpuBuffer) DType() DType { return b.dt }

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

func (c *host) Device() Device { return CPU() }

// Alloc makes a buffer of n elements. A request larger than the CPU
// memory limit (CPUMemoryLimit) fails with a *MemoryError before the Go
// runtime is asked: the runtime cannot fail an allocation, it ends the
// process.
func (c *host) Alloc(dt DType, n int) (Buffer, error) {
	if n < 0 {
		return nil, fmt.Errorf("device: cpu: cannot allocate %d elements of %v", n, dt)
	}
	if !dt.Valid() {
		return nil, fmt.Errorf("device: cpu: unknown dtype %v", dt)
	}
	if err := CheckCPUAlloc(dt, n); err != nil {
		return nil, err
	}
	if cb := cpuCache.alloc(dt, n); cb != nil {
		return cb, nil
	}
	var data any
	switch dt {
	case Float32:
		data = make([]float32, n)
	case Float64:
		data = make([]float64, n)
	case Int64:
		data = make([]int64, n)
	case Bool:
		data = make([]bool, n)
	case Uint8:
		data = make([]uint8, n)
	default:
		return nil, fmt.Errorf("device: cpu: unknown dtype %v", dt)
	}
	return &cpuBuffer{dt: dt, data: data}, nil
}

// HostData returns the Go slice behind a CPU buffer, or nil for buffers of
// other backends. It lets host-side code (tensor printing, file writers)
// read CPU memory without a copy. The slice may outlive the buffer, so a
// buffer handed out this way is never recycled.
func HostData(b Buffer) any {
	if cb, ok := b.(*cpuBuffer); ok {
		if cb.lease != nil {
			cb.lease.escaped.Store(true)
		}
		return cb.data
	}
	return nil
}

// HostBytes returns the memory of a CPU buffer as bytes, without a copy,
// or nil for buffers of other backends. The bytes are the elements in the
// machine's byte order; a Bool element is one byte that must be 0 or 1.
// File readers use it to read data straight into a tensor's memory.
func HostBytes(b Buffer) []byte {
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

// WrapHost makes a CPU buffer that uses the slice data ([]float32,
// []float64, []int64, []bool or []uint8) without copying it.
func WrapHost(data any) (Buffer, error) {
	switch data.(type) {
	case []float32:
		return &cpuBuffer{dt: Float32, data: data}, nil
	case []float64:
		return &cpuBuffer{dt: Float64, data: data}, nil
	case []int64:
		return &cpuBuffer{dt: Int64, data: data}, nil
	case []bool:
		return &cpuBuffer{dt: Bool, data: data}, nil
	case []uint8:
		return &cpuBuffer{dt: Uint8, data: data}, nil
	}
	return nil, fmt.Errorf("device: cannot wrap %T as a buffer", data)
}

var errHostMismatch = errors.New("device: host slice does not match the buffer's dtype and length")

func (c *host) Upload(dst Buffer, src any) error { return hostCopy(dst, src, true) }

func (c *host) Download(dst any, src Buffer) error { return hostCopy(src, dst, false) }

func hostCopy(buf Buffer, host any, upload bool) error {
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
func slice[T any](op string, v View) ([]T, error) {
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

func unsupported(op string, dt DType) error {
	return fmt.Errorf("device: cpu: %s is not implemented for %v", op, dt)
}
