package ptxvm

// Floating-point instructions, comparisons and conversions.
//
// .approx instructions are computed in float64 and rounded once: the
// error is then at most half an ulp, inside every bound the PTX ISA
// documents for them (for example 2 ulp for ex2.approx.f32, 1 ulp for
// rcp.approx.f32), so a kernel that is correct on a GPU is correct here.

import (
	"math"
	"math/bits"
)

func fmin32(a, b float32) float32 {
	switch {
	case a != a:
		return b
	case b != b:
		return a
	case a == b:
		if math.Signbit(float64(a)) {
			return a
		}
		return b
	case a < b:
		return a
	}
	return b
}

// fmax32 is fmin32 mirrored: NaN operands and signed zeros come out
// right by symmetry.
func fmax32(a, b float32) float32 { return -fmin32(-a, -b) }

func fmin64(a, b float64) float64 {
	switch {
	case a != a:
		return b
	case b != b:
		return a
	}
	return math.Min(a, b)
}

func fmax64(a, b float64) float64 {
	switch {
	case a != a:
		return b
	case b != b:
		return a
	}
	return math.Max(a, b)
}

func (c *compiler) buildFloat(st stmt, in *inst, op string, mods []string, typ string) error {
	ftz := has(mods, "ftz")
	sat := has(mods, "sat")
	mode := roundMode(mods)
	nsrc := map[string]int{"add": 2, "sub": 2, "mul": 2, "fma": 3, "mad": 3, "div": 2, "min": 2, "max": 2, "copysign": 2,
		"neg": 1, "abs": 1, "rcp": 1, "sqrt": 1, "rsqrt": 1, "ex2": 1, "lg2": 1, "sin": 1, "cos": 1, "tanh": 1}[op]
	if nsrc == 0 {
		return c.errf(st, "unsupported floating-point instruction %s", st.opcode)
	}
	if err := c.simple(st, in, typ, nsrc); err != nil {
		return err
	}
	if typ == ".f64" {
		return c.buildFloat64(st, in, op, mode)
	}
	get := func(a uint64) float32 {
		f := f32frombits(uint32(a))
		if ftz {
			f = ftz32(f)
		}
		return f
	}
	put := func(f float32) uint64 {
		if ftz {
			f = ftz32(f)
		}
		if sat {
			f = sat32(f)
		}
		return uint64(f32bits(f))
	}
	plain := !ftz && !sat && mode == rnd
	switch op {
	case "add", "sub":
		neg := op == "sub"
		if plain {
			if neg {
				in.exec = lanes2(func(a, b uint64) uint64 {
					return uint64(f32bits(f32frombits(uint32(a)) - f32frombits(uint32(b))))
				})
			} else {
				in.exec = lanes2(func(a, b uint64) uint64 {
					return uint64(f32bits(f32frombits(uint32(a)) + f32frombits(uint32(b))))
				})
			}
			return nil
		}
		in.exec = lanes2(func(a, b uint64) uint64 {
			y := get(b)
			if neg {
				y = -y
			}
			return put(add32(get(a), y, mode))
		})
	case "mul":
		if plain {
			in.exec = lanes2(func(a, b uint64) uint64 {
				return uint64(f32bits(f32frombits(uint32(a)) * f32frombits(uint32(b))))
			})
			return nil
		}
		in.exec = lanes2(func(a, b uint64) uint64 { return put(mul32(get(a), get(b), mode)) })
	case "fma", "mad":
		in.exec = lanes3(func(a, b, cc uint64) uint64 { return put(fma32(get(a), get(b), get(cc), mode)) })
	case "div":
		in.exec = lanes2(func(a, b uint64) uint64 {
			x, y := get(a), get(b)
			if mode == rnd {
				return put(x / y)
			}
			return put(round32(float64(x)/float64(y), divResidual(float64(x), float64(y)), mode))
		})
	case "min":
		in.exec = lanes2(func(a, b uint64) uint64 { return put(fmin32(get(a), get(b))) })
	case "max":
		in.exec = lanes2(func(a, b uint64) uint64 { return put(fmax32(get(a), get(b))) })
	case "copysign":
		in.exec = lanes2(func(a, b uint64) uint64 { return (b &^ (1 << 31)) | (a & (1 << 31)) })
	case "neg":
		in.exec = lanes1(func(a uint64) uint64 { return put(-get(a)) })
	case "abs":
		in.exec = lanes1(func(a uint64) uint64 { return put(float32(math.Abs(float64(get(a))))) })
	case "rcp":
		in.exec = lanes1(func(a uint64) uint64 { return put(float32(1 / float64(get(a)))) })
	case "sqrt":
		in.exec = lanes1(func(a uint64) uint64 { return put(float32(math.Sqrt(float64(get(a))))) })
	case "rsqrt":
		in.exec = lanes1(func(a uint64) uint64 { return put(float32(1 / math.Sqrt(float64(get(a))))) })
	case "ex2":
		in.exec = lanes1(func(a uint64) uint64 { return put(float32(math.Exp2(float64(get(a))))) })
	case "lg2":
		in.exec = lanes1(func(a uint64) uint64 { return put(float32(math.Log2(float64(get(a))))) })
	case "sin":
		in.exec = lanes1(func(a uint64) uint64 { return put(float32(math.Sin(float64(get(a))))) })
	case "cos":
		in.exec = lanes1(func(a uint64) uint64 { return put(float32(math.Cos(float64(get(a))))) })
	case "tanh":
		in.exec = lanes1(func(a uint64) uint64 { return put(float32(math.Tanh(float64(get(a))))) })
	}
	return nil
}

// divResidual is the sign-carrying remainder of x/y against its float64
// quotient, for directed rounding of a float32 division.
func divResidual(x, y float64) float64 {
	q := x / y
	r := math.FMA(-q, y, x) // x - q*y exactly
	if y < 0 {
		return -r
	}
	return r
}

func (c *compiler) buildFloat64(st stmt, in *inst, op string, mode uint8) error {
	g := f64frombits
	p := f64bits
	switch op {
	case "add":
		if mode == rnd {
			in.exec = lanes2(func(a, b uint64) uint64 { return p(g(a) + g(b)) })
		} else {
			in.exec = lanes2(func(a, b uint64) uint64 { return p(add64(g(a), g(b), mode)) })
		}
	case "sub":
		if mode == rnd {
			in.exec = lanes2(func(a, b uint64) uint64 { return p(g(a) - g(b)) })
		} else {
			in.exec = lanes2(func(a, b uint64) uint64 { return p(add64(g(a), -g(b), mode)) })
		}
	case "mul":
		if mode == rnd {
			in.exec = lanes2(func(a, b uint64) uint64 { return p(g(a) * g(b)) })
		} else {
			in.exec = lanes2(func(a, b uint64) uint64 { return p(mul64(g(a), g(b), mode)) })
		}
	case "fma", "mad":
		if mode != rnd {
			return c.errf(st, "float64 fma with directed rounding is not supported")
		}
		in.exec = lanes3(func(a, b, cc uint64) uint64 { return p(math.FMA(g(a), g(b), g(cc))) })
	case "div":
		in.exec = lanes2(func(a, b uint64) uint64 { return p(g(a) / g(b)) })
	case "min":
		in.exec = lanes2(func(a, b uint64) uint64 { return p(fmin64(g(a), g(b))) })
	case "max":
		in.exec = lanes2(func(a, b uint64) uint64 { return p(fmax64(g(a), g(b))) })
	case "copysign":
		in.exec = lanes2(func(a, b uint64) uint64 { return (b &^ (1 << 63)) | (a & (1 << 63)) })
	case "neg":
		in.exec = lanes1(func(a uint64) uint64 { return a ^ 1<<63 })
	case "abs":
		in.exec = lanes1(func(a uint64) uint64 { return a &^ (1 << 63) })
	case "rcp":
		in.exec = lanes1(func(a uint64) uint64 { return p(1 / g(a)) })
	case "sqrt":
		in.exec = lanes1(func(a uint64) uint64 { return p(math.Sqrt(g(a))) })
	case "rsqrt":
		in.exec = lanes1(func(a uint64) uint64 { return p(1 / math.Sqrt(g(a))) })
	default:
		return c.errf(st, "unsupported float64 instruction %s", st.opcode)
	}
	return nil
}

// cmpFunc returns the comparison of setp for type typ.
func cmpFunc(cmp, typ string, ftz bool) func(a, b uint64) bool {
	w := uint(typeSize(typ) * 8)
	mask := widthMask(w)
	switch typ {
	case ".f32", ".f64":
		get := func(a uint64) float64 {
			if typ == ".f32" {
				f := f32frombits(uint32(a))
				if ftz {
					f = ftz32(f)
				}
				return float64(f)
			}
			return f64frombits(a)
		}
		unord := func(x, y float64) bool { return x != x || y != y }
		switch cmp {
		case "eq":
			return func(a, b uint64) bool { return get(a) == get(b) }
		case "ne":
			return func(a, b uint64) bool { x, y := get(a), get(b); return x != y && !unord(x, y) }
		case "lt":
			return func(a, b uint64) bool { return get(a) < get(b) }
		case "le":
			return func(a, b uint64) bool { return get(a) <= get(b) }
		case "gt":
			return func(a, b uint64) bool { return get(a) > get(b) }
		case "ge":
			return func(a, b uint64) bool { return get(a) >= get(b) }
		case "equ":
			return func(a, b uint64) bool { x, y := get(a), get(b); return x == y || unord(x, y) }
		case "neu":
			return func(a, b uint64) bool { return get(a) != get(b) }
		case "ltu":
			return func(a, b uint64) bool { return !(get(a) >= get(b)) }
		case "leu":
			return func(a, b uint64) bool { return !(get(a) > get(b)) }
		case "gtu":
			return func(a, b uint64) bool { return !(get(a) <= get(b)) }
		case "geu":
			return func(a, b uint64) bool { return !(get(a) < get(b)) }
		case "num":
			return func(a, b uint64) bool { return !unord(get(a), get(b)) }
		case "nan":
			return func(a, b uint64) bool { return unord(get(a), get(b)) }
		}
		return nil
	}
	signed := typ[1] == 's'
	less := func(a, b uint64) bool { return a&mask < b&mask }
	if signed {
		less = func(a, b uint64) bool { return int64(sext(a, w)) < int64(sext(b, w)) }
	}
	switch cmp {
	case "eq":
		return func(a, b uint64) bool { return a&mask == b&mask }
	case "ne":
		return func(a, b uint64) bool { return a&mask != b&mask }
	case "lt":
		return less
	case "le":
		return func(a, b uint64) bool { return !less(b, a) }
	case "gt":
		return func(a, b uint64) bool { return less(b, a) }
	case "ge":
		return func(a, b uint64) bool { return !less(a, b) }
	case "lo":
		return func(a, b uint64) bool { return a&mask < b&mask }
	case "ls":
		return func(a, b uint64) bool { return a&mask <= b&mask }
	case "hi":
		return func(a, b uint64) bool { return a&mask > b&mask }
	case "hs":
		return func(a, b uint64) bool { return a&mask >= b&mask }
	}
	return nil
}

// buildSetp compiles setp.cmp[.bool][.ftz].type p[|q], a, b[, c].
func (c *compiler) buildSetp(st stmt, in *inst, mods []string) error {
	typ := lastType(mods)
	if len(mods) < 2 || typ == "" {
		return c.errf(st, "bad setp")
	}
	cmp := mods[0]
	boolOp := ""
	for _, m := range mods[1:] {
		if m == "and" || m == "or" || m == "xor" {
			boolOp = m
		}
	}
	f := cmpFunc(cmp, typ, has(mods, "ftz"))
	if f == nil {
		return c.errf(st, "unsupported comparison %s for %s", cmp, typ)
	}
	if len(st.operands) < 3 {
		return c.errf(st, "setp takes at least 3 operands")
	}
	dst := st.operands[0]
	var second int32 = -1
	if i := indexByte(dst, '|'); i >= 0 {
		q, err := c.dest(st, dst[i+1:])
		if err != nil {
			return err
		}
		second = q
		dst = dst[:i]
	}
	d, err := c.dest(st, dst)
	if err != nil {
		return err
	}
	in.d[0] = d
	if err := c.sources(st, in, 1, typ); err != nil {
		return err
	}
	// The optional predicate operand c is a .pred; sources parsed it
	// with typ, which is fine for a register.
	hasQ := second >= 0
	if hasQ {
		in.d[1] = second
	}
	bop := boolOp
	in.exec = func(wp *warp, in *inst, m uint32) {
		r := wp.r
		for mm := m; mm != 0; mm &= mm - 1 {
			l := int32(bits.TrailingZeros32(mm))
			t := f(r[in.a[0]+l], r[in.a[1]+l])
			p, q := t, !t
			if bop != "" {
				cv := r[in.a[2]+l] != 0
				switch bop {
				case "and":
					p, q = t && cv, !t && cv
				case "or":
					p, q = t || cv, !t || cv
				case "xor":
					p, q = t != cv, !t != cv
				}
			}
			r[in.d[0]+l] = b2u(p)
			if hasQ {
				r[in.d[1]+l] = b2u(q)
			}
		}
	}
	return nil
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// buildCvt compiles cvt[.rnd][.ftz][.sat].dtype.atype.
func (c *compiler) buildCvt(st stmt, in *inst, mods []string) error {
	var types []string
	for _, m := range mods {
		if typeSize("."+m) > 0 {
			types = append(types, "."+m)
		}
	}
	if len(types) != 2 {
		return c.errf(st, "cvt needs a destination and a source type")
	}
	dt, at := types[0], types[1]
	if err := c.simple(st, in, at, 1); err != nil {
		return err
	}
	ftz, sat := has(mods, "ftz"), has(mods, "sat")
	mode := roundMode(mods)
	dw, aw := uint(typeSize(dt)*8), uint(typeSize(at)*8)
	isF := func(t string) bool { return t == ".f32" || t == ".f64" }
	if dt == ".tf32" {
		if at != ".f32" || mode != rna {
			return c.errf(st, "only cvt.rna.tf32.f32 is supported")
		}
		in.exec = lanes1(func(a uint64) uint64 { return uint64(tf32(uint32(a))) })
		return nil
	}
	if dt == ".f16" || at == ".f16" || dt == ".bf16" || at == ".bf16" {
		return c.errf(st, "half-precision conversions are not supported")
	}
	readF := func(a uint64) float64 {
		if at == ".f32" {
			f := f32frombits(uint32(a))
			if ftz {
				f = ftz32(f)
			}
			return float64(f)
		}
		return f64frombits(a)
	}
	readI := func(a uint64) (int64, uint64) {
		if at[1] == 's' {
			v := int64(sext(a, aw))
			return v, uint64(v)
		}
		v := a & widthMask(aw)
		return int64(v), v
	}
	switch {
	case isF(dt) && isF(at):
		hasInt := false
		for _, m := range mods {
			if m == "rni" || m == "rzi" || m == "rmi" || m == "rpi" {
				hasInt = true
			}
		}
		in.exec = lanes1(func(a uint64) uint64 {
			x := readF(a)
			if hasInt {
				x = roundInt(x, mode)
			}
			if dt == ".f32" {
				var f float32
				if at == ".f64" && !hasInt {
					f = round32(x, 0, mode)
				} else {
					f = float32(x)
				}
				if ftz {
					f = ftz32(f)
				}
				if sat {
					f = sat32(f)
				}
				return uint64(f32bits(f))
			}
			if sat {
				x = math.Max(0, math.Min(1, x))
				if x != x {
					x = 0
				}
			}
			return f64bits(x)
		})
	case isF(dt):
		in.exec = lanes1(func(a uint64) uint64 {
			sv, uv := readI(a)
			var x float64
			var e float64
			if at[1] == 's' {
				x = float64(sv)
				e = float64(sv - int64(x)) // exact for |sv| < 2^63 except at the top; good enough for the residual sign
				if x >= 9.2233720368547758e18 {
					e = -1
				}
			} else {
				x = float64(uv)
				if x >= 1.8446744073709552e19 {
					e = -1
				} else {
					e = float64(int64(uv - uint64(x)))
				}
			}
			if dt == ".f32" {
				f := round32(x, e, mode)
				if sat {
					f = sat32(f)
				}
				return uint64(f32bits(f))
			}
			return f64bits(adjust64(x, e, mode))
		})
	case isF(at):
		signed := dt[1] == 's'
		in.exec = lanes1(func(a uint64) uint64 {
			x := roundInt(readF(a), mode)
			if signed {
				if dw == 64 {
					return uint64(satS64(x))
				}
				return uint64(satS(x, dw)) & widthMask(dw)
			}
			if dw == 64 {
				return satU64(x)
			}
			return satU(x, dw)
		})
	default:
		// Integer to integer: truncate or extend; .sat clamps.
		dsigned := dt[1] == 's'
		in.exec = lanes1(func(a uint64) uint64 {
			sv, uv := readI(a)
			if sat {
				if dsigned {
					lo, hi := int64(-1)<<(dw-1), int64(1)<<(dw-1)-1
					if dw == 64 {
						lo, hi = math.MinInt64, math.MaxInt64
					}
					if at[1] == 's' {
						return uint64(max(min(sv, hi), lo)) & widthMask(dw)
					}
					if uv > uint64(hi) {
						return uint64(hi)
					}
					return uv
				}
				hi := widthMask(dw)
				if at[1] == 's' && sv < 0 {
					return 0
				}
				return min(uv, hi)
			}
			if dsigned && dw > aw {
				return uv & widthMask(dw) // already sign-extended by readI
			}
			return uv & widthMask(dw)
		})
	}
	return nil
}
