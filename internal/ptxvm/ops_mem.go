package ptxvm

// Loads, stores, atomics and address conversions, with memcheck: every
// access is checked against its space's bounds and its alignment (the
// whole vector's size), global ones against the live allocations.

import (
	"encoding/binary"
	"math"
	"math/bits"
	"sync"
)

// atomicMu serialises atomics of all workers: atomics are rare in the
// kernels, and one lock keeps read-modify-write exact across blocks.
var atomicMu sync.Mutex

func spaceOf(mods []string) (uint8, bool) {
	for _, m := range mods {
		switch m {
		case "global":
			return spGlobal, true
		case "shared":
			return spShared, true
		case "local":
			return spLocal, true
		case "param":
			return spParamKernel, true
		case "const":
			return spGlobal, true
		}
	}
	return spGeneric, false
}

func spaceName(sp uint8) string {
	switch sp {
	case spGlobal:
		return "global"
	case spShared:
		return "shared"
	case spLocal:
		return "local"
	case spParamKernel:
		return "kernel parameter"
	case spParamFrame:
		return "call parameter"
	}
	return "generic"
}

// access returns the n bytes at addr of space sp for lane l, or nil
// after recording a fault.
func (wp *warp) access(sp uint8, addr, n uint64, l int, write, atomic bool) []byte {
	if addr&(n-1) != 0 {
		wp.laneFault(l, FaultMisaligned, addr, "misaligned %s access: %d bytes at %#x (must be %d-byte aligned)", spaceName(sp), n, addr, n)
		return nil
	}
	if sp == spGeneric {
		switch {
		case addr >= sharedWindow && addr < sharedWindow+windowSize:
			sp, addr = spShared, addr-sharedWindow
		case addr >= localWindow && addr < localWindow+windowSize:
			sp, addr = spLocal, addr-localWindow
		default:
			sp = spGlobal
		}
	}
	switch sp {
	case spGlobal:
		a := wp.lastAlloc
		if a == nil || addr < a.addr || addr+n > a.addr+a.size || a.freed.Load() {
			a = wp.l.dev.mem.find(addr, n)
			if a == nil {
				wp.laneFault(l, FaultOutOfBounds, addr, "invalid global %s: %s", rw(write), wp.l.dev.mem.describe(addr, n))
				return nil
			}
			wp.lastAlloc = a
		}
		off := addr - a.addr
		return a.data[off : off+n]
	case spShared:
		sh := wp.b.shared
		if addr+n > uint64(len(sh)) || addr+n < addr {
			wp.laneFault(l, FaultOutOfBounds, addr, "invalid shared %s: %d bytes at offset %#x, the block has %d bytes of shared memory", rw(write), n, addr, len(sh))
			return nil
		}
		if wp.b.race != nil && !atomic {
			if f := wp.b.race.access(wp, l, addr, n, write); f != nil {
				return nil
			}
		}
		return sh[addr : addr+n]
	case spLocal, spParamFrame:
		loc := wp.localOf(l)
		if addr+n > uint64(len(loc)) || addr+n < addr {
			wp.laneFault(l, FaultOutOfBounds, addr, "invalid local %s: %d bytes at offset %#x, the thread has %d bytes of local memory", rw(write), n, addr, len(loc))
			return nil
		}
		return loc[addr : addr+n]
	case spParamKernel:
		p := wp.l.params
		if write {
			wp.laneFault(l, FaultOutOfBounds, addr, "store to kernel parameter memory at offset %#x", addr)
			return nil
		}
		if addr+n > uint64(len(p)) || addr+n < addr {
			wp.laneFault(l, FaultOutOfBounds, addr, "invalid kernel parameter read: %d bytes at offset %#x, the parameters take %d bytes", n, addr, len(p))
			return nil
		}
		return p[addr : addr+n]
	}
	wp.laneFault(l, FaultOutOfBounds, addr, "access to an unknown address space")
	return nil
}

func rw(write bool) string {
	if write {
		return "write"
	}
	return "read"
}

func getN(b []byte, w uint8) uint64 {
	switch w {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	}
	return binary.LittleEndian.Uint64(b)
}

func putN(b []byte, w uint8, v uint64) {
	switch w {
	case 1:
		b[0] = byte(v)
	case 2:
		binary.LittleEndian.PutUint16(b, uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(b, uint32(v))
	default:
		binary.LittleEndian.PutUint64(b, v)
	}
}

// sext sign-extends the low n bits of v.
func sext(v uint64, n uint) uint64 {
	s := 64 - n
	return uint64(int64(v<<s) >> s)
}

// buildMem compiles ld, st, atom, red, cvta and isspacep.
func (c *compiler) buildMem(st stmt, in *inst, op string, mods []string) error {
	typ := lastType(mods)
	sp, _ := spaceOf(mods)
	switch op {
	case "cvta":
		to := has(mods, "to")
		sp, ok := spaceOf(mods)
		if !ok {
			return c.errf(st, "cvta needs a state space")
		}
		if err := c.simple(st, in, ".u64", 1); err != nil {
			return err
		}
		var base uint64
		switch sp {
		case spShared:
			base = sharedWindow
		case spLocal:
			base = localWindow
		}
		in.exec = func(w *warp, in *inst, m uint32) {
			r := w.r
			for mm := m; mm != 0; mm &= mm - 1 {
				l := int32(bits.TrailingZeros32(mm))
				if to {
					r[in.d[0]+l] = r[in.a[0]+l] - base
				} else {
					r[in.d[0]+l] = r[in.a[0]+l] + base
				}
			}
		}
		return nil
	case "ld", "st":
	case "atom", "red":
		return c.buildAtom(st, in, op, mods, sp, typ)
	case "prefetch", "prefetchu":
		in.exec = func(*warp, *inst, uint32) {}
		return nil
	default:
		return c.errf(st, "unknown memory instruction %s", op)
	}
	w := typeSize(typ)
	if w == 0 {
		return c.errf(st, "%s needs a type", op)
	}
	vec := 1
	for _, m := range mods {
		switch m {
		case "v2":
			vec = 2
		case "v4":
			vec = 4
		case "v8":
			vec = 8
		}
	}
	if len(st.operands) != 2 {
		return c.errf(st, "%s takes 2 operands", op)
	}
	addrOp, valOp := st.operands[1], st.operands[0]
	if op == "st" {
		addrOp, valOp = st.operands[0], st.operands[1]
	}
	symSpace, err := c.address(st, in, addrOp)
	if err != nil {
		return err
	}
	if sp == spParamKernel && symSpace == spParamFrame {
		sp = spParamFrame
	}
	if sp == spGeneric && symSpace != 0 {
		sp = symSpace
	}
	elems := vector(valOp)
	if len(elems) != vec {
		return c.errf(st, "vector of %d operands for .v%d", len(elems), vec)
	}
	for i, e := range elems {
		if op == "ld" {
			d, err := c.dest(st, e)
			if err != nil {
				return err
			}
			in.d[i] = d
		} else {
			s, err := c.source(st, in, e, typ)
			if err != nil {
				return err
			}
			in.a[1+i] = s
		}
	}
	in.space, in.width, in.vec = sp, uint8(w), uint8(vec)
	signed := typ[1] == 's'
	n := uint64(w * vec)
	if op == "ld" {
		in.exec = func(wp *warp, in *inst, m uint32) {
			r := wp.r
			for mm := m; mm != 0; mm &= mm - 1 {
				l := bits.TrailingZeros32(mm)
				addr := r[in.a[0]+int32(l)] + uint64(in.off)
				b := wp.access(in.space, addr, n, l, false, false)
				if b == nil {
					return
				}
				for k := 0; k < int(in.vec); k++ {
					v := getN(b[k*int(in.width):], in.width)
					if signed {
						v = sext(v, uint(in.width)*8)
					}
					r[in.d[k]+int32(l)] = v
				}
			}
		}
		return nil
	}
	in.exec = func(wp *warp, in *inst, m uint32) {
		r := wp.r
		for mm := m; mm != 0; mm &= mm - 1 {
			l := bits.TrailingZeros32(mm)
			addr := r[in.a[0]+int32(l)] + uint64(in.off)
			b := wp.access(in.space, addr, n, l, true, false)
			if b == nil {
				return
			}
			for k := 0; k < int(in.vec); k++ {
				putN(b[k*int(in.width):], in.width, r[in.a[1+k]+int32(l)])
			}
		}
	}
	return nil
}

// buildAtom compiles atom and red: atom.space.op.type d, [a], b[, c].
func (c *compiler) buildAtom(st stmt, in *inst, op string, mods []string, sp uint8, typ string) error {
	w := typeSize(typ)
	if w != 4 && w != 8 {
		return c.errf(st, "%s: unsupported type %s", op, typ)
	}
	var aop string
	for _, m := range mods {
		switch m {
		case "add", "min", "max", "inc", "dec", "and", "or", "xor", "exch", "cas":
			aop = m
		}
	}
	if aop == "" {
		return c.errf(st, "%s: missing operation", op)
	}
	ops := st.operands
	if op == "atom" {
		d, err := c.dest(st, ops[0])
		if err != nil {
			return err
		}
		in.d[0] = d
		ops = ops[1:]
	} else {
		in.d[0] = c.newSlot() // red discards the old value
	}
	if len(ops) < 2 {
		return c.errf(st, "%s: too few operands", op)
	}
	symSpace, err := c.address(st, in, ops[0])
	if err != nil {
		return err
	}
	if sp == spGeneric && symSpace != 0 {
		sp = symSpace
	}
	for i, o := range ops[1:] {
		s, err := c.source(st, in, o, typ)
		if err != nil {
			return err
		}
		in.a[1+i] = s
	}
	in.space, in.width, in.vec, in.atom = sp, uint8(w), 1, true
	f := atomFunc(aop, typ)
	in.exec = func(wp *warp, in *inst, m uint32) {
		r := wp.r
		atomicMu.Lock()
		defer atomicMu.Unlock()
		for mm := m; mm != 0; mm &= mm - 1 {
			l := bits.TrailingZeros32(mm)
			addr := r[in.a[0]+int32(l)] + uint64(in.off)
			b := wp.access(in.space, addr, uint64(in.width), l, true, true)
			if b == nil {
				return
			}
			old := getN(b, in.width)
			putN(b, in.width, f(old, r[in.a[1]+int32(l)], r[in.a[2]+int32(l)]))
			r[in.d[0]+int32(l)] = old
		}
	}
	return nil
}

// atomFunc returns the new value of an atomic from the old one and its
// operands b and c.
func atomFunc(op, typ string) func(old, b, c uint64) uint64 {
	w := uint(typeSize(typ) * 8)
	mask := uint64(1)<<w - 1
	if w == 64 {
		mask = math.MaxUint64
	}
	signed := typ[1] == 's'
	switch op {
	case "exch":
		return func(_, b, _ uint64) uint64 { return b & mask }
	case "cas":
		return func(old, b, c uint64) uint64 {
			if old&mask == b&mask {
				return c & mask
			}
			return old
		}
	case "and":
		return func(old, b, _ uint64) uint64 { return old & b & mask }
	case "or":
		return func(old, b, _ uint64) uint64 { return (old | b) & mask }
	case "xor":
		return func(old, b, _ uint64) uint64 { return (old ^ b) & mask }
	case "inc":
		return func(old, b, _ uint64) uint64 {
			if old&mask >= b&mask {
				return 0
			}
			return (old + 1) & mask
		}
	case "dec":
		return func(old, b, _ uint64) uint64 {
			if old&mask == 0 || old&mask > b&mask {
				return b & mask
			}
			return (old - 1) & mask
		}
	}
	switch typ {
	case ".f32":
		return func(old, b, _ uint64) uint64 {
			x, y := f32frombits(uint32(old)), f32frombits(uint32(b))
			switch op {
			case "add":
				return uint64(f32bits(x + y))
			case "min":
				return uint64(f32bits(fmin32(x, y)))
			}
			return uint64(f32bits(fmax32(x, y)))
		}
	case ".f64":
		return func(old, b, _ uint64) uint64 {
			x, y := f64frombits(old), f64frombits(b)
			switch op {
			case "add":
				return f64bits(x + y)
			case "min":
				return f64bits(math.Min(x, y))
			}
			return f64bits(math.Max(x, y))
		}
	}
	return func(old, b, _ uint64) uint64 {
		switch op {
		case "add":
			return (old + b) & mask
		case "min", "max":
			less := old&mask < b&mask
			if signed {
				less = int64(sext(old, w)) < int64(sext(b, w))
			}
			if (op == "min") == less {
				return old & mask
			}
			return b & mask
		}
		return old
	}
}
