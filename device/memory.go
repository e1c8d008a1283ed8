package device

import (
	"errors"
	"fmt"

	"github.com/nabla-go/nabla/internal/bytesize"
)

// MemoryStats describes the memory a device's allocator holds, for
// devices that manage their own memory (the CUDA backend's caching
// allocator): PyTorch's torch.cuda.memory_allocated, max_memory_allocated
// and memory_reserved, plus the counts that show whether steady-state work
// still reaches the driver.
type MemoryStats struct {
	Allocated     int64 // bytes in live buffers (rounded to the allocator's size classes)
	Reserved      int64 // bytes held from the driver: Allocated plus the cache
	PeakAllocated int64 // the largest Allocated since the start or the last ResetPeakMemory
	PeakReserved  int64 // the largest Reserved likewise
	Allocs        int64 // buffers handed out
	CacheHits     int64 // ... of which came from the cache
	Frees         int64 // buffers returned (collected or freed explicitly)
	DeviceAllocs  int64 // allocations from the driver (cuMemAlloc calls)
	DeviceFrees   int64 // returns to the driver (cuMemFree calls)
	OOMRetries    int64 // allocations that needed the cache flushed first
}

// MemoryReporter is implemented by backends that keep allocator
// statistics.
type MemoryReporter interface {
	// MemoryStatistics returns the allocator's counters.
	MemoryStatistics() MemoryStats
	// ResetPeakMemory sets the peaks to the current values.
	ResetPeakMemory()
}

// ErrNoMemoryStats is returned by Memory for a device whose backend keeps
// no allocator statistics, such as the CPU, whose memory belongs to the Go
// runtime (see runtime.ReadMemStats).
var ErrNoMemoryStats = errors.New("device: no allocator statistics for this device")

// Memory returns the allocator statistics of d.
func Memory(d Device) (MemoryStats, error) {
	r, err := reporter(d)
	if err != nil {
		return MemoryStats{}, err
	}
	return r.MemoryStatistics(), nil
}

// ResetPeakMemory sets d's peak statistics to the current values, so that
// Memory then reports the peak of what follows.
func ResetPeakMemory(d Device) error {
	r, err := reporter(d)
	if err != nil {
		return err
	}
	r.ResetPeakMemory()
	return nil
}

func reporter(d Device) (MemoryReporter, error) {
	b, err := Get(d)
	if err != nil {
		return nil, err
	}
	r, ok := b.(MemoryReporter)
	if !ok {
		return nil, fmt.Errorf("%w: %v", ErrNoMemoryStats, d)
	}
	return r, nil
}

// ErrOutOfMemory is wrapped by the error of an allocation larger than the
// memory its device may use (see MemoryError), such as one over the CPU
// backend's memory limit.
var ErrOutOfMemory = errors.New("device: out of memory")

// MemoryError is the error of an allocation refused because it is larger
// than the memory the device may use. It wraps ErrOutOfMemory.
type MemoryError struct {
	Device Device
	DType  DType
	Elems  int   // elements asked for
	Bytes  int64 // their size
	Limit  int64 // the limit they exceed
	Source string
}

// Error names the request, the limit, where the limit comes from and how
// to change it.
func (e *MemoryError) Error() string {
	return fmt.Sprintf("%v: %d elements of %v need %s, more than the %s limit (%s)",
		e.Device, e.Elems, e.DType, bytesize.Format(e.Bytes), bytesize.Format(e.Limit), e.Source)
}

// Unwrap returns ErrOutOfMemory.
func (e *MemoryError) Unwrap() error { return ErrOutOfMemory }
