package ptxvm

// Instruction selection: build picks the execution function of each
// instruction from its opcode, modifiers and type.

import (
	"math"
	"math/bits"
	"strings"
)

func lanes1(f func(a uint64) uint64) lanesFn {
	return func(w *warp, in *inst, m uint32) {
		r := w.r
		d, a := in.d[0], in.a[0]
		for mm := m; mm != 0; mm &= mm - 1 {
			l := int32(bits.TrailingZeros32(mm))
			r[d+l] = f(r[a+l])
		}
	}
}

func lanes2(f func(a, b uint64) uint64) lanesFn {
	return func(w *warp, in *inst, m uint32) {
		r := w.r
		d, a, b := in.d[0], in.a[0], in.a[1]
		for mm := m; mm != 0; mm &= mm - 1 {
			l := int32(bits.TrailingZeros32(mm))
			r[d+l] = f(r[a+l], r[b+l])
		}
	}
}

func lanes3(f func(a, b, c uint64) uint64) lanesFn {
	return func(w *warp, in *inst, m uint32) {
		r := w.r
		d, a, b, c := in.d[0], in.a[0], in.a[1], in.a[2]
		for mm := m; mm != 0; mm &= mm - 1 {
			l := int32(bits.TrailingZeros32(mm))
			r[d+l] = f(r[a+l], r[b+l], r[c+l])
		}
	}
}

func widthMask(w uint) uint64 {
	if w >= 64 {
		return math.MaxUint64
	}
	return 1<<w - 1
}

// build selects the instruction's execution.
func (c *compiler) build(st stmt, in *inst, op string, mods []string) error {
	switch op {
	case "bra":
		if len(st.operands) != 1 {
			return c.errf(st, "bra takes one label")
		}
		in.ctl = ctlBra
		c.fixups = append(c.fixups, labelFixup{pc: len(c.p.code), label: st.operands[0]})
		return nil
	case "call":
		return c.buildCall(st, in)
	case "ret":
		in.ctl = ctlRet
		return nil
	case "exit":
		in.ctl = ctlExit
		return nil
	case "trap":
		in.ctl = ctlTrap
		return nil
	case "bar", "barrier":
		if has(mods, "warp") {
			return c.buildWarpSync(st, in)
		}
		if has(mods, "arrive") || has(mods, "red") {
			return c.errf(st, "%s is not supported (only bar.sync/barrier.sync)", st.opcode)
		}
		if len(st.operands) > 1 {
			return c.errf(st, "barriers with a thread count are not supported")
		}
		if len(st.operands) == 1 && st.operands[0] != "0" {
			return c.errf(st, "only barrier 0 is supported")
		}
		in.ctl = ctlBar
		return nil
	case "membar", "fence":
		in.exec = func(*warp, *inst, uint32) {}
		return nil
	case "ld", "st", "atom", "red", "cvta", "prefetch", "prefetchu":
		return c.buildMem(st, in, op, mods)
	case "shfl":
		return c.buildShfl(st, in, mods)
	case "vote":
		return c.buildVote(st, in, mods)
	case "mma":
		return c.buildMMA(st, in, mods)
	case "mov":
		return c.buildMov(st, in, mods)
	case "cvt":
		return c.buildCvt(st, in, mods)
	case "setp":
		return c.buildSetp(st, in, mods)
	case "selp":
		typ := lastType(mods)
		if err := c.simple(st, in, typ, 3); err != nil {
			return err
		}
		in.exec = lanes3(func(a, b, p uint64) uint64 {
			if p != 0 {
				return a
			}
			return b
		})
		return nil
	}
	typ := lastType(mods)
	switch {
	case typ == ".pred":
		return c.buildPred(st, in, op)
	case typ == ".f32" || typ == ".f64":
		return c.buildFloat(st, in, op, mods, typ)
	case typ != "":
		return c.buildInt(st, in, op, mods, typ)
	}
	return c.errf(st, "unsupported instruction %s", st.opcode)
}

// buildCall compiles call[.uni] [(ret),] f, (args).
func (c *compiler) buildCall(st stmt, in *inst) error {
	var retNames, argNames []string
	var callee string
	for _, o := range st.operands {
		if strings.HasPrefix(o, "(") {
			list := strings.Split(strings.Trim(o, "()"), ",")
			var names []string
			for _, n := range list {
				if n = strings.TrimSpace(n); n != "" {
					names = append(names, n)
				}
			}
			if callee == "" {
				retNames = names
			} else {
				argNames = names
			}
			continue
		}
		callee = o
	}
	fr := c.frames[callee]
	if fr == nil {
		return c.errf(st, "call of unknown function %s", callee)
	}
	if len(argNames) != len(fr.params) || len(retNames) != len(fr.rets) {
		return c.errf(st, "call of %s with %d arguments and %d results; it takes %d and returns %d", callee, len(argNames), len(retNames), len(fr.params), len(fr.rets))
	}
	site := &callSite{callee: fr.info}
	for i, n := range argNames {
		s, ok := c.lookupSym(n)
		if !ok || s.space != spParamFrame {
			return c.errf(st, "argument %s is not a .param variable", n)
		}
		site.args = append(site.args, frameCopy{from: int(s.addr), to: int(fr.params[i].addr), size: min(s.size, fr.params[i].size)})
	}
	for i, n := range retNames {
		s, ok := c.lookupSym(n)
		if !ok || s.space != spParamFrame {
			return c.errf(st, "result %s is not a .param variable", n)
		}
		site.rets = append(site.rets, frameCopy{from: int(fr.rets[i].addr), to: int(s.addr), size: min(s.size, fr.rets[i].size)})
	}
	in.ctl = ctlCall
	in.call = site
	return nil
}

// buildPred compiles and/or/xor/not/mov on predicates.
func (c *compiler) buildPred(st stmt, in *inst, op string) error {
	switch op {
	case "not":
		if err := c.simple(st, in, ".pred", 1); err != nil {
			return err
		}
		in.exec = lanes1(func(a uint64) uint64 { return (a ^ 1) & 1 })
	case "and", "or", "xor":
		if err := c.simple(st, in, ".pred", 2); err != nil {
			return err
		}
		switch op {
		case "and":
			in.exec = lanes2(func(a, b uint64) uint64 { return a & b & 1 })
		case "or":
			in.exec = lanes2(func(a, b uint64) uint64 { return (a | b) & 1 })
		default:
			in.exec = lanes2(func(a, b uint64) uint64 { return (a ^ b) & 1 })
		}
	default:
		return c.errf(st, "unsupported predicate instruction %s", st.opcode)
	}
	return nil
}

// buildMov compiles mov, including packing and unpacking vectors:
// mov.b64 %rd, {%r1, %r2} and mov.b64 {%r1, %r2}, %rd.
func (c *compiler) buildMov(st stmt, in *inst, mods []string) error {
	typ := lastType(mods)
	if len(st.operands) != 2 {
		return c.errf(st, "mov takes 2 operands")
	}
	w := uint(typeSize(typ) * 8)
	dst, src := vector(st.operands[0]), vector(st.operands[1])
	switch {
	case len(dst) == 1 && len(src) == 1:
		if err := c.simple(st, in, typ, 1); err != nil {
			return err
		}
		mask := widthMask(w)
		if typ == ".pred" {
			mask = 1
		}
		in.exec = lanes1(func(a uint64) uint64 { return a & mask })
	case len(dst) == 1:
		d, err := c.dest(st, dst[0])
		if err != nil {
			return err
		}
		in.d[0] = d
		part := w / uint(len(src))
		for i, s := range src {
			a, err := c.source(st, in, s, ".b"+itoa(int(part)))
			if err != nil {
				return err
			}
			in.a[i] = a
		}
		n := len(src)
		pm := widthMask(part)
		in.exec = func(wp *warp, in *inst, m uint32) {
			r := wp.r
			for mm := m; mm != 0; mm &= mm - 1 {
				l := int32(bits.TrailingZeros32(mm))
				var v uint64
				for k := n - 1; k >= 0; k-- {
					v = v<<part | r[in.a[k]+l]&pm
				}
				r[in.d[0]+l] = v
			}
		}
	default:
		a, err := c.source(st, in, src[0], typ)
		if err != nil {
			return err
		}
		in.a[0] = a
		part := w / uint(len(dst))
		for i, d := range dst {
			s, err := c.dest(st, d)
			if err != nil {
				return err
			}
			in.d[i] = s
		}
		n := len(dst)
		pm := widthMask(part)
		in.exec = func(wp *warp, in *inst, m uint32) {
			r := wp.r
			for mm := m; mm != 0; mm &= mm - 1 {
				l := int32(bits.TrailingZeros32(mm))
				v := r[in.a[0]+l]
				for k := 0; k < n; k++ {
					r[in.d[k]+l] = v & pm
					v >>= part
				}
			}
		}
	}
	return nil
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
