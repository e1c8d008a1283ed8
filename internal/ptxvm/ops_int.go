package ptxvm

// Integer and bit instructions. Division by zero gives what the hardware
// gives (all ones for a quotient, the dividend for a remainder) instead of
// trapping: PTX leaves it undefined and kernels must not rely on it.

import (
	"math/bits"
)

func (c *compiler) buildInt(st stmt, in *inst, op string, mods []string, typ string) error {
	w := uint(typeSize(typ) * 8)
	mask := widthMask(w)
	signed := typ[1] == 's'
	sx := func(v uint64) int64 { return int64(sext(v, w)) }
	wide := has(mods, "wide")
	hi := has(mods, "hi")
	cc := has(mods, "cc")
	switch op {
	case "add", "sub":
		if err := c.simple(st, in, typ, 2); err != nil {
			return err
		}
		sat := has(mods, "sat")
		if cc {
			in.exec = carryOp(op == "sub", false, true, w)
			return nil
		}
		if sat && signed && w == 32 {
			in.exec = lanes2(func(a, b uint64) uint64 {
				x, y := int64(int32(a)), int64(int32(b))
				r := x + y
				if op == "sub" {
					r = x - y
				}
				r = max(min(r, 1<<31-1), -1<<31)
				return uint64(r) & mask
			})
			return nil
		}
		if op == "add" {
			in.exec = lanes2(func(a, b uint64) uint64 { return (a + b) & mask })
		} else {
			in.exec = lanes2(func(a, b uint64) uint64 { return (a - b) & mask })
		}
	case "addc", "subc":
		if err := c.simple(st, in, typ, 2); err != nil {
			return err
		}
		in.exec = carryOp(op == "subc", true, cc, w)
	case "mul":
		if err := c.simple(st, in, typ, 2); err != nil {
			return err
		}
		in.exec = lanes2(mulFunc(w, signed, wide, hi))
	case "mad":
		if err := c.simple(st, in, typ, 3); err != nil {
			return err
		}
		if cc {
			in.exec = madCarry(w, hi, false, true)
			return nil
		}
		mf := mulFunc(w, signed, wide, hi)
		dm := mask
		if wide {
			dm = widthMask(2 * w)
		}
		in.exec = lanes3(func(a, b, c uint64) uint64 { return (mf(a, b) + c) & dm })
	case "madc":
		if err := c.simple(st, in, typ, 3); err != nil {
			return err
		}
		in.exec = madCarry(w, hi, true, cc)
	case "div", "rem":
		if err := c.simple(st, in, typ, 2); err != nil {
			return err
		}
		isDiv := op == "div"
		if signed {
			in.exec = lanes2(func(a, b uint64) uint64 {
				x, y := sx(a), sx(b)
				if y == 0 {
					if isDiv {
						return mask
					}
					return a & mask
				}
				if y == -1 { // avoids the overflow of MinInt / -1
					if isDiv {
						return uint64(-x) & mask
					}
					return 0
				}
				if isDiv {
					return uint64(x/y) & mask
				}
				return uint64(x%y) & mask
			})
		} else {
			in.exec = lanes2(func(a, b uint64) uint64 {
				x, y := a&mask, b&mask
				if y == 0 {
					if isDiv {
						return mask
					}
					return x
				}
				if isDiv {
					return x / y
				}
				return x % y
			})
		}
	case "min", "max":
		if err := c.simple(st, in, typ, 2); err != nil {
			return err
		}
		isMin := op == "min"
		in.exec = lanes2(func(a, b uint64) uint64 {
			less := a&mask < b&mask
			if signed {
				less = sx(a) < sx(b)
			}
			if less == isMin {
				return a & mask
			}
			return b & mask
		})
	case "neg":
		if err := c.simple(st, in, typ, 1); err != nil {
			return err
		}
		in.exec = lanes1(func(a uint64) uint64 { return -a & mask })
	case "abs":
		if err := c.simple(st, in, typ, 1); err != nil {
			return err
		}
		in.exec = lanes1(func(a uint64) uint64 {
			if v := sx(a); v < 0 {
				return uint64(-v) & mask
			}
			return a & mask
		})
	case "not":
		if err := c.simple(st, in, typ, 1); err != nil {
			return err
		}
		in.exec = lanes1(func(a uint64) uint64 { return ^a & mask })
	case "cnot":
		if err := c.simple(st, in, typ, 1); err != nil {
			return err
		}
		in.exec = lanes1(func(a uint64) uint64 {
			if a&mask == 0 {
				return 1
			}
			return 0
		})
	case "and", "or", "xor":
		if err := c.simple(st, in, typ, 2); err != nil {
			return err
		}
		switch op {
		case "and":
			in.exec = lanes2(func(a, b uint64) uint64 { return a & b & mask })
		case "or":
			in.exec = lanes2(func(a, b uint64) uint64 { return (a | b) & mask })
		default:
			in.exec = lanes2(func(a, b uint64) uint64 { return (a ^ b) & mask })
		}
	case "shl", "shr":
		if len(st.operands) != 3 {
			return c.errf(st, "%s takes 3 operands", op)
		}
		if err := c.simple(st, in, typ, 2); err != nil {
			return err
		}
		left := op == "shl"
		in.exec = lanes2(func(a, b uint64) uint64 {
			n := uint32(b)
			if left {
				if n >= uint32(w) {
					return 0
				}
				return a << n & mask
			}
			if signed {
				if n >= uint32(w) {
					n = uint32(w) - 1
				}
				return uint64(sx(a)>>n) & mask
			}
			if n >= uint32(w) {
				return 0
			}
			return (a & mask) >> n
		})
	case "clz":
		if err := c.simple(st, in, typ, 1); err != nil {
			return err
		}
		in.exec = lanes1(func(a uint64) uint64 { return uint64(bits.LeadingZeros64(a&mask) - (64 - int(w))) })
	case "popc":
		if err := c.simple(st, in, typ, 1); err != nil {
			return err
		}
		in.exec = lanes1(func(a uint64) uint64 { return uint64(bits.OnesCount64(a & mask)) })
	case "brev":
		if err := c.simple(st, in, typ, 1); err != nil {
			return err
		}
		in.exec = lanes1(func(a uint64) uint64 { return bits.Reverse64(a) >> (64 - w) })
	case "bfe":
		if err := c.simple(st, in, typ, 3); err != nil {
			return err
		}
		in.exec = lanes3(func(a, b, cc uint64) uint64 {
			pos, ln := uint(b&0xff), uint(cc&0xff)
			if ln == 0 {
				return 0
			}
			var sbit uint64
			if signed {
				p := min(pos+ln-1, w-1)
				sbit = a >> p & 1
			}
			var out uint64
			for i := uint(0); i < w; i++ {
				var bit uint64
				if i < ln && pos+i <= w-1 {
					bit = a >> (pos + i) & 1
				} else {
					bit = sbit
				}
				out |= bit << i
			}
			return out
		})
	case "bfi":
		if err := c.simple(st, in, typ, 4); err != nil {
			return err
		}
		in.exec = func(wp *warp, in *inst, m uint32) {
			r := wp.r
			for mm := m; mm != 0; mm &= mm - 1 {
				l := int32(bits.TrailingZeros32(mm))
				a, b := r[in.a[0]+l], r[in.a[1]+l]
				pos, ln := uint(r[in.a[2]+l]&0xff), uint(r[in.a[3]+l]&0xff)
				out := b & mask
				for i := uint(0); i < ln && pos+i < w; i++ {
					bit := a >> i & 1
					out = out&^(1<<(pos+i)) | bit<<(pos+i)
				}
				r[in.d[0]+l] = out
			}
		}
	default:
		return c.errf(st, "unsupported integer instruction %s", st.opcode)
	}
	return nil
}

// mulFunc returns the product of mul.lo/.hi/.wide.
func mulFunc(w uint, signed, wide, hi bool) func(a, b uint64) uint64 {
	mask := widthMask(w)
	switch {
	case wide:
		dm := widthMask(2 * w)
		if signed {
			return func(a, b uint64) uint64 { return uint64(int64(sext(a, w))*int64(sext(b, w))) & dm }
		}
		return func(a, b uint64) uint64 { return (a & mask) * (b & mask) & dm }
	case hi && w == 64:
		if signed {
			return func(a, b uint64) uint64 {
				h, _ := bits.Mul64(a, b)
				// Signed correction of the unsigned high word.
				if int64(a) < 0 {
					h -= b
				}
				if int64(b) < 0 {
					h -= a
				}
				return h
			}
		}
		return func(a, b uint64) uint64 { h, _ := bits.Mul64(a, b); return h }
	case hi:
		if signed {
			return func(a, b uint64) uint64 { return uint64(int64(sext(a, w))*int64(sext(b, w))>>w) & mask }
		}
		return func(a, b uint64) uint64 { return (a & mask) * (b & mask) >> w & mask }
	}
	return func(a, b uint64) uint64 { return a * b & mask }
}

// carryOp is add.cc/addc/sub.cc/subc: with useCarry the carry flag is an
// input; the .cc forms write it.
func carryOp(sub, useCarry, setCarry bool, w uint) lanesFn {
	mask := widthMask(w)
	return func(wp *warp, in *inst, m uint32) {
		r := wp.r
		cf := wp.l.prog.carry * 32
		for mm := m; mm != 0; mm &= mm - 1 {
			l := int32(bits.TrailingZeros32(mm))
			a, b := r[in.a[0]+l]&mask, r[in.a[1]+l]&mask
			var cin uint64
			if useCarry {
				cin = r[cf+l]
			}
			var s, cout uint64
			if sub {
				// a - b - borrow; the flag holds the borrow.
				s = (a - b - cin) & mask
				if a < b+cin || (b == mask && cin == 1) {
					cout = 1
				}
			} else {
				full := a + b + cin
				s = full & mask
				if w == 64 {
					_, c1 := bits.Add64(a, b, cin)
					cout = c1
				} else {
					cout = full >> w & 1
				}
			}
			r[in.d[0]+l] = s
			if setCarry {
				r[cf+l] = cout
			}
		}
	}
}

// madCarry is mad.lo.cc / madc.lo / madc.hi (.cc) on 32-bit operands:
// d = lo or hi half of a*b, plus c plus (for madc) the carry in; the
// carry out is written.
func madCarry(w uint, hi, useCarry, setCarry bool) lanesFn {
	mask := widthMask(w)
	return func(wp *warp, in *inst, m uint32) {
		r := wp.r
		cf := wp.l.prog.carry * 32
		for mm := m; mm != 0; mm &= mm - 1 {
			l := int32(bits.TrailingZeros32(mm))
			a, b, c := r[in.a[0]+l]&mask, r[in.a[1]+l]&mask, r[in.a[2]+l]&mask
			var p uint64
			if w == 64 {
				h, lo := bits.Mul64(a, b)
				p = lo
				if hi {
					p = h
				}
			} else {
				p = a * b
				if hi {
					p >>= w
				}
				p &= mask
			}
			var cin uint64
			if useCarry {
				cin = r[cf+l]
			}
			var s, cout uint64
			if w == 64 {
				s, cout = bits.Add64(p, c, cin)
			} else {
				full := p + c + cin
				s, cout = full&mask, full>>w&1
			}
			r[in.d[0]+l] = s
			if setCarry {
				r[cf+l] = cout
			}
		}
	}
}
