// Package bytesize reads and writes byte counts as people do: the sizes of
// NABLA_CPU_MEMORY and of the allocations an out-of-memory error names.
package bytesize

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Parse parses a size such as "1073741824", "8GiB", "1.5G", "500MB"
// or "unlimited" (which gives -1). K, M, G, T, KiB, MiB, GiB and TiB are
// powers of 1024; KB, MB, GB and TB powers of 1000; B is a byte.
func Parse(s string) (int64, error) {
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

// Format formats n bytes for a message: "34359738368 bytes (32 GiB)".
func Format(n int64) string {
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
