package cpu

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/bytesize"
)

// MemoryEnv is the environment variable that sets the CPU memory limit:
// a number of bytes with an optional unit, "8GiB", "512MiB", "2G" (units
// without "i" and K/M/G/T alone are also powers of 1024; KB, MB, GB and TB
// are powers of 1000), or "unlimited".
const MemoryEnv = "NABLA_CPU_MEMORY"

// cpuLimitOverride is the limit SetMemoryLimit set: 0 for none (the
// default applies), negative for no limit.
var cpuLimitOverride atomic.Int64

// SetMemoryLimit sets the largest CPU allocation, in bytes, that the CPU
// backend attempts; larger requests fail with a *device.MemoryError instead of
// asking the Go runtime, which would end the process with an uncatchable
// "fatal error: runtime: out of memory". A negative limit removes the
// limit; 0 restores the default (MemoryLimit). It returns the previous
// setting, so that a test can put it back.
func SetMemoryLimit(bytes int64) (previous int64) {
	return cpuLimitOverride.Swap(bytes)
}

// defaultCPULimit is the limit without SetMemoryLimit: NABLA_CPU_MEMORY
// or the machine's memory, computed once.
var defaultCPULimit = sync.OnceValues(loadCPULimit)

// loadCPULimit reads NABLA_CPU_MEMORY, or finds the machine's memory.
func loadCPULimit() (cpuLimit, error) {
	if v, ok := os.LookupEnv(MemoryEnv); ok {
		n, err := bytesize.Parse(v)
		if err != nil {
			return cpuLimit{}, fmt.Errorf("device: %s=%q: %w", MemoryEnv, v, err)
		}
		return cpuLimit{n, MemoryEnv + "=" + v}, nil
	}
	if n, source := physicalMemory(); n > 0 {
		return cpuLimit{n, source + "; set " + MemoryEnv + " to change the limit"}, nil
	}
	return cpuLimit{-1, "unknown on this platform"}, nil
}

// cpuLimit is a limit in bytes (negative: none) and where it comes from.
type cpuLimit struct {
	bytes  int64
	source string
}

// MemoryLimit returns the largest CPU allocation the CPU backend
// attempts, in bytes, and where that limit comes from: the value set with
// SetMemoryLimit, else the NABLA_CPU_MEMORY environment variable, else
// the memory of the machine (the physical memory, or the memory limit of
// the process's control group when that is lower). A negative limit means
// none. The error reports a NABLA_CPU_MEMORY that is not a size.
func MemoryLimit() (bytes int64, source string, err error) {
	if o := cpuLimitOverride.Load(); o != 0 {
		return o, "set by cpu.SetMemoryLimit", nil
	}
	l, err := defaultCPULimit()
	return l.bytes, l.source, err
}

// CheckAlloc applies the CPU memory limit to a request for n elements
// of dt: it returns a *device.MemoryError when the request is larger than
// MemoryLimit, an error wrapping device.ErrSize when its size overflows. A
// single request larger than the limit cannot succeed on this machine and
// the Go runtime would abort the whole process trying, so the CPU
// backend's Alloc refuses it first; code that makes host slices of a
// tensor's size itself (a copy of device memory to the host) calls
// CheckAlloc first for the same reason.
func CheckAlloc(dt device.DType, n int) error {
	nbytes, err := device.ByteSize(dt, n)
	if err != nil {
		return fmt.Errorf("device: cpu: cannot allocate: %w", err)
	}
	limit, source, err := MemoryLimit()
	if err != nil {
		return err
	}
	if limit >= 0 && int64(nbytes) > limit {
		return &device.MemoryError{Device: device.CPU(), DType: dt, Elems: n, Bytes: int64(nbytes), Limit: limit, Source: source}
	}
	return nil
}
