package ptxvm

// Floating-point semantics of PTX: IEEE rounding modes (.rn .rz .rm .rp)
// for float32 results computed exactly in float64 plus an error term,
// subnormal flushing (.ftz), saturation (.sat), TF32 rounding, and the
// .approx functions.

import (
	"math"
)

func f32bits(f float32) uint32     { return math.Float32bits(f) }
func f32frombits(b uint32) float32 { return math.Float32frombits(b) }
func f64bits(f float64) uint64     { return math.Float64bits(f) }
func f64frombits(b uint64) float64 { return math.Float64frombits(b) }

// rounding modes
const (
	rnd uint8 = iota // nearest even
	rzr              // toward zero
	rmi              // toward -inf
	rpi              // toward +inf
	rna              // nearest, ties away from zero (cvt.rna.tf32)
)

func roundMode(mods []string) uint8 {
	for _, m := range mods {
		switch m {
		case "rz", "rzi":
			return rzr
		case "rm", "rmi":
			return rmi
		case "rp", "rpi":
			return rpi
		case "rna":
			return rna
		}
	}
	return rnd
}

// ftz32 flushes a float32 subnormal to zero of the same sign.
func ftz32(f float32) float32 {
	b := f32bits(f)
	if b&0x7f800000 == 0 {
		return f32frombits(b & 0x80000000)
	}
	return f
}

// sat32 clamps to [0, 1], NaN to 0 (.sat).
func sat32(f float32) float32 {
	switch {
	case f != f:
		return 0
	case f < 0:
		return 0
	case f > 1:
		return 1
	}
	return f
}

// twoSum returns s, e with s = fl(a+b) and a+b = s+e exactly.
func twoSum(a, b float64) (float64, float64) {
	s := a + b
	bb := s - a
	e := (a - (s - bb)) + (b - bb)
	return s, e
}

// round32 rounds the exact value s+e (|e| small against s, as twoSum
// leaves it) to float32 in mode.
func round32(s, e float64, mode uint8) float32 {
	f := float32(s)
	if math.IsInf(s, 0) || s != s {
		return f
	}
	fd := float64(f)
	// cmp is the sign of f - (s+e).
	cmp := 0
	switch {
	case fd > s:
		cmp = 1
	case fd < s:
		cmp = -1
	case e > 0:
		cmp = -1
	case e < 0:
		cmp = 1
	}
	switch mode {
	case rnd, rna:
		if e != 0 && cmp != 0 {
			// float32(s) may have rounded a tie of s the wrong way when
			// e breaks it: check whether s lies exactly halfway.
			lo, hi := f, f
			if cmp > 0 {
				lo = math.Nextafter32(f, float32(math.Inf(-1)))
			} else {
				hi = math.Nextafter32(f, float32(math.Inf(1)))
			}
			mid := (float64(lo) + float64(hi)) / 2
			if mid == s {
				if e > 0 {
					return hi
				}
				return lo
			}
		}
		return f
	case rzr:
		if s+e > 0 || (s == 0 && e > 0) {
			if cmp > 0 {
				return math.Nextafter32(f, 0)
			}
		} else if cmp < 0 {
			return math.Nextafter32(f, 0)
		}
		if math.IsInf(float64(f), 0) {
			return math.Nextafter32(f, 0)
		}
		return f
	case rmi:
		if cmp > 0 {
			return math.Nextafter32(f, float32(math.Inf(-1)))
		}
		if math.IsInf(float64(f), 1) {
			return math.MaxFloat32
		}
		return f
	case rpi:
		if cmp < 0 {
			return math.Nextafter32(f, float32(math.Inf(1)))
		}
		if math.IsInf(float64(f), -1) {
			return -math.MaxFloat32
		}
		return f
	}
	return f
}

// add32, mul32 and fma32 are float32 arithmetic in a rounding mode.
func add32(a, b float32, mode uint8) float32 {
	if mode == rnd {
		return a + b
	}
	s, e := twoSum(float64(a), float64(b))
	return round32(s, e, mode)
}

func mul32(a, b float32, mode uint8) float32 {
	if mode == rnd {
		return a * b
	}
	return round32(float64(a)*float64(b), 0, mode) // the product is exact in float64
}

func fma32(a, b, c float32, mode uint8) float32 {
	if mode == rnd {
		// Rounding the float64 FMA to float32 rounds twice, which differs
		// from rounding once only when the float64 result sits exactly
		// halfway between two float32 values (low 29 bits 1<<28) or is
		// subnormal as a float32; those take the exact path below.
		r := math.FMA(float64(a), float64(b), float64(c))
		if f64bits(r)&(1<<29-1) != 1<<28 {
			if m := math.Abs(r); m >= 0x1p-126 || m == 0 || m != m {
				return float32(r)
			}
		}
	}
	p := float64(a) * float64(b) // exact
	s, e := twoSum(p, float64(c))
	if math.IsInf(p, 0) || p != p {
		return float32(p + float64(c))
	}
	return round32(s, e, mode)
}

// add64 and mul64 with directed rounding of float64 results.
func add64(a, b float64, mode uint8) float64 {
	s, e := twoSum(a, b)
	return adjust64(s, e, mode)
}

func mul64(a, b float64, mode uint8) float64 {
	p := a * b
	e := math.FMA(a, b, -p)
	return adjust64(p, e, mode)
}

// adjust64 moves s one ulp in mode's direction when the exact value is
// s+e with e != 0 pointing that way.
func adjust64(s, e float64, mode uint8) float64 {
	if e == 0 || math.IsInf(s, 0) || s != s {
		return s
	}
	switch mode {
	case rzr:
		if (s > 0 && e < 0) || (s < 0 && e > 0) {
			return math.Nextafter(s, 0)
		}
	case rmi:
		if e < 0 {
			return math.Nextafter(s, math.Inf(-1))
		}
	case rpi:
		if e > 0 {
			return math.Nextafter(s, math.Inf(1))
		}
	}
	return s
}

// roundInt rounds to an integral value in mode (cvt.rni/.rzi/.rmi/.rpi).
func roundInt(f float64, mode uint8) float64 {
	switch mode {
	case rzr:
		return math.Trunc(f)
	case rmi:
		return math.Floor(f)
	case rpi:
		return math.Ceil(f)
	}
	return math.RoundToEven(f)
}

// tf32 rounds a float32 to TF32 (10 mantissa bits) in mode rna, the
// result in float32 bits with the low 13 bits zero.
func tf32(b uint32) uint32 {
	if b&0x7f800000 == 0x7f800000 {
		if b&0x7fffff != 0 {
			return 0x7fffffff // canonical NaN
		}
		return b
	}
	r := (b + 0x1000) &^ 0x1fff
	return r
}

// Float-to-integer conversion with PTX's saturation: NaN gives 0, values
// beyond the range give the nearest bound.
func satS64(f float64) int64 {
	switch {
	case f != f:
		return 0
	case f >= 9223372036854775807:
		return math.MaxInt64
	case f <= -9223372036854775808:
		return math.MinInt64
	}
	return int64(f)
}

func satU64(f float64) uint64 {
	switch {
	case f != f || f <= 0:
		return 0
	case f >= 18446744073709551615:
		return math.MaxUint64
	}
	return uint64(f)
}

func satS(f float64, bits uint) int64 {
	lo, hi := -float64(int64(1)<<(bits-1)), float64(int64(1)<<(bits-1)-1)
	switch {
	case f != f:
		return 0
	case f <= lo:
		return int64(lo)
	case f >= hi:
		return int64(hi)
	}
	return int64(f)
}

func satU(f float64, bits uint) uint64 {
	hi := float64(uint64(1)<<bits - 1)
	switch {
	case f != f || f <= 0:
		return 0
	case f >= hi:
		return uint64(hi)
	}
	return uint64(f)
}
