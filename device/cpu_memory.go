package device

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// ErrOutOfMemory is wrapped by the error of a CPU allocation larger than
// the CPU memory limit (see CPUMemoryLimit).
var ErrOutOfMemory = errors.New("device: out of memory")

// CPUMemoryEnv is the environment variable that sets the CPU memory limit:
// a number of bytes with an optional unit, "8GiB", "512MiB", "2G" (units
// without "i" and K/M/G/T alone are also powers of 1024; KB, MB, GB and TB
// are powers of 1000), or "unlimited".
const CPUMemoryEnv = "NABLA_CPU_MEMORY"

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
		e.Device, e.Elems, e.DType, FormatBytes(e.Bytes), FormatBytes(e.Limit), e.Source)
}

// Unwrap returns ErrOutOfMemory.
func (e *MemoryError) Unwrap() error { return ErrOutOfMemory }

// cpuLimitOverride is the limit SetCPUMemoryLimit set: 0 for none (the
// default applies), negative for no limit.
var cpuLimitOverride atomic.Int64

// SetCPUMemoryLimit sets the largest CPU allocation, in bytes, that the CPU
// backend attempts; larger requests fail with a *MemoryError instead of
// asking the Go runtime, which would end the process with an uncatchable
// "fatal error: runtime: out of memory". A negative limit removes the
// limit; 0 restores the default (CPUMemoryLimit). It returns the previous
// setting, so that a test can put it back.
func SetCPUMemoryLimit(bytes int64) (previous int64) {
	return cpuLimitOverride.Swap(bytes)
}

// defaultCPULimit is the limit without SetCPUMemoryLimit: NABLA_CPU_MEMORY
// or the machine's memory, computed once.
var defaultCPULimit = sync.OnceValues(loadCPULimit)

// loadCPULimit reads NABLA_CPU_MEMORY, or finds the machine's memory.
func loadCPULimit() (cpuLimit, error) {
	if v, ok := os.LookupEnv(CPUMemoryEnv); ok {
		n, err := ParseBytes(v)
		if err != nil {
			return cpuLimit{}, fmt.Errorf("device: %s=%q: %w", CPUMemoryEnv, v, err)
		}
		return cpuLimit{n, CPUMemoryEnv + "=" + v}, nil
	}
	if n, source := physicalMemory(); n > 0 {
		return cpuLimit{n, source + "; set " + CPUMemoryEnv + " to change the limit"}, nil
	}
	return cpuLimit{-1, "unknown on this platform"}, nil
}

// cpuLimit is a limit in bytes (negative: none) and where it comes from.
type cpuLimit struct {
	bytes  int64
	source string
}

// CPUMemoryLimit returns the largest CPU allocation the CPU backend
// attempts, in bytes, and where that limit comes from: the value set with
// SetCPUMemoryLimit, else the NABLA_CPU_MEMORY environment variable, else
// the memory of the machine (the physical memory, or the memory limit of
// the process's control group when that is lower). A negative limit means
// none. The error reports a NABLA_CPU_MEMORY that is not a size.
func CPUMemoryLimit() (bytes int64, source string, err error) {
	if o := cpuLimitOverride.Load(); o != 0 {
		return o, "set by device.SetCPUMemoryLimit", nil
	}
	l, err := defaultCPULimit()
	return l.bytes, l.source, err
}

// CheckCPUAlloc applies the CPU memory limit to a request for n elements
// of dt: it returns a *MemoryError when the request is larger than
// CPUMemoryLimit, an error wrapping ErrSize when its size overflows. A
// single request larger than the limit cannot succeed on this machine and
// the Go runtime would abort the whole process trying, so the CPU
// backend's Alloc refuses it first; code that makes host slices of a
// tensor's size itself (a copy of device memory to the host) calls
// CheckCPUAlloc first for the same reason.
func CheckCPUAlloc(dt DType, n int) error {
	nbytes, err := ByteSize(dt, n)
	if err != nil {
		return fmt.Errorf("device: cpu: cannot allocate: %w", err)
	}
	limit, source, err := CPUMemoryLimit()
	if err != nil {
		return err
	}
	if limit >= 0 && int64(nbytes) > limit {
		return &MemoryError{Device: CPU(), DType: dt, Elems: n, Bytes: int64(nbytes), Limit: limit, Source: source}
	}
	return nil
}

// ParseBytes parses a size such as "1073741824", "8GiB", "1.5G", "500MB"
// or "unlimited" (which gives -1). K, M, G, T, KiB, MiB, GiB and TiB are
// powers of 1024; KB, MB, GB and TB powers of 1000; B is a byte.
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if strings.EqualFold(t, "unlimited") {
		return -1, nil
	}
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') && t[i-1] != '.' {
		i--
	}
	num, unit := strings.TrimSpace(t[:i]), strings.ToUpper(strings.TrimSpace(t[i:]))
	mult := map[string]float64{
		"": 1, "B": 1,
		"K": 1 << 10, "KIB": 1 << 10, "KB": 1e3,
		"M": 1 << 20, "MIB": 1 << 20, "MB": 1e6,
		"G": 1 << 30, "GIB": 1 << 30, "GB": 1e9,
		"T": 1 << 40, "TIB": 1 << 40, "TB": 1e12,
	}[unit]
	v, err := strconv.ParseFloat(num, 64)
	if mult == 0 || err != nil || !(v >= 0) {
		return 0, fmt.Errorf("%q is not a size: want a number of bytes with an optional unit (8GiB, 512MiB, 2G, 500MB) or \"unlimited\"", s)
	}
	b := v * mult
	if b >= math.MaxInt64 {
		return math.MaxInt64, nil
	}
	return int64(b), nil
}

// FormatBytes formats n bytes for a message: "34359738368 bytes (32 GiB)".
func FormatBytes(n int64) string {
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	if n < 1024 {
		return fmt.Sprintf("%d bytes", n)
	}
	v, u := float64(n)/1024, 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	return fmt.Sprintf("%d bytes (%.3g %s)", n, v, units[u])
}
