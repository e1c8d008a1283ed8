package ptxvm

// compile.go turns a parsed kernel (its .entry and every .func it calls)
// into a program: register slots, constant slots, resolved labels and
// symbols, the shared, local and parameter layouts, and an execution
// function per instruction (chosen by ops*.go).

import (
	"fmt"
	"strconv"
	"strings"
)

// symbol is a variable's address in its space.
type symbol struct {
	space uint8
	addr  int64
	size  int
}

type compiler struct {
	mod      *Module
	p        *program
	fn       *funcInfo
	decl     *funcDecl
	regs     []map[string]int32 // scopes, innermost last
	syms     []map[string]symbol
	consts   map[uint64]int32
	specials map[int]int32
	labels   map[string]int32
	fixups   []labelFixup
	funcs    map[string]*funcInfo
	// callee parameter and return layouts in the frame area
	frames map[string]*calleeFrame

	sharedOff map[string]int64 // module-level shared variables placed so far
	dynFix    []int32          // constant slots holding extern shared addresses, fixed up after layout
	nextSlot  int32
}

type labelFixup struct {
	pc    int
	label string
}

// calleeFrame is where a .func's parameters and return values live.
type calleeFrame struct {
	info   *funcInfo
	params []symbol
	rets   []symbol
}

// compileError is an error of one instruction.
type compileError struct {
	fn   string
	line int
	text string
	msg  string
}

func (e *compileError) Error() string {
	return fmt.Sprintf("%s, line %d (%s): %s", e.fn, e.line, e.text, e.msg)
}

// compileKernel compiles entry name of m.
func compileKernel(m *Module, name string) (*program, error) {
	entry := m.funcByName[name]
	if entry == nil || !entry.entry || !entry.defined {
		return nil, fmt.Errorf("no .entry named %q", name)
	}
	order, err := m.callOrder(entry)
	if err != nil {
		return nil, err
	}
	c := &compiler{
		mod:       m,
		p:         &program{name: name, maxntid: entry.maxntid, reqntid: entry.reqntid},
		consts:    map[uint64]int32{},
		specials:  map[int]int32{},
		funcs:     map[string]*funcInfo{},
		frames:    map[string]*calleeFrame{},
		sharedOff: map[string]int64{},
	}
	c.p.carry = c.newSlot()
	// Entry parameters: the launch's parameter buffer.
	off := 0
	for _, pd := range entry.params {
		al := max(pd.align, 1)
		off = (off + al - 1) &^ (al - 1)
		c.p.params = append(c.p.params, paramInfo{name: pd.name, offset: off, size: pd.size(), align: al})
		off += pd.size()
	}
	c.p.paramSize = off
	// Frame layouts of the callees, so call sites can refer to them.
	for _, f := range order[:len(order)-1] {
		fr := &calleeFrame{info: &funcInfo{name: f.name}}
		for _, v := range f.params {
			fr.params = append(fr.params, c.frameVar(v))
		}
		for _, v := range f.rets {
			fr.rets = append(fr.rets, c.frameVar(v))
		}
		c.frames[f.name] = fr
		c.funcs[f.name] = fr.info
	}
	c.funcs[entry.name] = &funcInfo{name: entry.name, entry: true}
	for _, f := range order {
		if err := c.compileFunc(f); err != nil {
			return nil, err
		}
	}
	c.p.entry = c.funcs[entry.name].start
	// The extern shared array starts after the static variables.
	dynBase := int64(alignUp(c.p.sharedStatic, 16))
	c.p.dynShared = len(c.dynFix) > 0
	for _, slot := range c.dynFix {
		for k := range c.p.consts {
			if c.p.consts[k].slot == slot {
				c.p.consts[k].v += uint64(dynBase)
			}
		}
	}
	c.p.nslots = int(c.nextSlot)
	return c.p, nil
}

func alignUp(n, a int) int { return (n + a - 1) &^ (a - 1) }

// frameVar places a parameter variable in the thread's frame area.
func (c *compiler) frameVar(v *varDecl) symbol {
	al := max(v.align, 1)
	c.p.localSize = alignUp(c.p.localSize, al)
	s := symbol{space: spParamFrame, addr: int64(c.p.localSize), size: v.size()}
	c.p.localSize += v.size()
	return s
}

// callOrder returns the functions reachable from entry, callees before
// callers (the entry last). Recursion is refused: frames are static.
func (m *Module) callOrder(entry *funcDecl) ([]*funcDecl, error) {
	var order []*funcDecl
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(f *funcDecl) error
	visit = func(f *funcDecl) error {
		switch state[f.name] {
		case 1:
			return fmt.Errorf("%s: recursive calls are not supported", f.name)
		case 2:
			return nil
		}
		state[f.name] = 1
		for _, st := range f.body {
			if st.kind != stInstr || !strings.HasPrefix(st.opcode, "call") {
				continue
			}
			callee := calleeName(st.operands)
			g := m.funcByName[callee]
			if g == nil || !g.defined {
				return &compileError{f.name, st.line, st.text, fmt.Sprintf("call of undefined function %q", callee)}
			}
			if err := visit(g); err != nil {
				return err
			}
		}
		state[f.name] = 2
		order = append(order, f)
		return nil
	}
	if err := visit(entry); err != nil {
		return nil, err
	}
	return order, nil
}

func calleeName(ops []string) string {
	for _, o := range ops {
		if !strings.HasPrefix(o, "(") {
			return o
		}
	}
	return ""
}

func (c *compiler) newSlot() int32 {
	s := c.nextSlot
	c.nextSlot++
	return s
}

func (c *compiler) compileFunc(f *funcDecl) error {
	c.decl = f
	c.fn = c.funcs[f.name]
	c.fn.start = int32(len(c.p.code))
	c.regs = []map[string]int32{{}}
	c.syms = []map[string]symbol{{}}
	c.labels = map[string]int32{}
	c.fixups = nil
	if f.entry {
		for i, pd := range f.params {
			pi := c.p.params[i]
			c.syms[0][pd.name] = symbol{space: spParamKernel, addr: int64(pi.offset), size: pi.size}
		}
	} else {
		fr := c.frames[f.name]
		for i, pd := range f.params {
			c.syms[0][pd.name] = fr.params[i]
		}
		for i, pd := range f.rets {
			c.syms[0][pd.name] = fr.rets[i]
		}
	}
	for _, st := range f.body {
		switch st.kind {
		case stOpen:
			c.regs = append(c.regs, map[string]int32{})
			c.syms = append(c.syms, map[string]symbol{})
		case stClose:
			if len(c.regs) > 1 {
				c.regs = c.regs[:len(c.regs)-1]
				c.syms = c.syms[:len(c.syms)-1]
			}
		case stLabel:
			c.labels[st.label] = int32(len(c.p.code))
		case stReg:
			if err := c.declareRegs(st); err != nil {
				return err
			}
		case stVar:
			if err := c.declareVar(st); err != nil {
				return err
			}
		case stInstr:
			in, err := c.instruction(st)
			if err != nil {
				return err
			}
			c.p.code = append(c.p.code, in)
		}
	}
	// Falling off the end of a function returns.
	end := inst{ctl: ctlRet, guard: -1, fn: c.fn, text: "(end of function)", line: int32(f.line)}
	if f.entry {
		end.ctl = ctlExit
	}
	c.p.code = append(c.p.code, end)
	for _, fx := range c.fixups {
		pc, ok := c.labels[fx.label]
		if !ok {
			in := &c.p.code[fx.pc]
			return &compileError{f.name, int(in.line), in.text, fmt.Sprintf("undefined label %q", fx.label)}
		}
		c.p.code[fx.pc].target = pc
	}
	return nil
}

func (c *compiler) declareRegs(st stmt) error {
	scope := c.regs[len(c.regs)-1]
	for _, n := range st.regNames {
		if i := strings.IndexByte(n, '<'); i >= 0 {
			cnt, err := strconv.Atoi(strings.TrimSuffix(n[i+1:], ">"))
			if err != nil || cnt < 0 || cnt > 1<<20 {
				return &compileError{c.decl.name, st.line, n, "bad register range"}
			}
			base := n[:i]
			for k := 0; k < cnt; k++ {
				s := c.newSlot()
				scope[base+strconv.Itoa(k)] = s
			}
			continue
		}
		s := c.newSlot()
		scope[n] = s
	}
	return nil
}

func (c *compiler) declareVar(st stmt) error {
	v := st.decl
	scope := c.syms[len(c.syms)-1]
	switch v.space {
	case "local":
		al := max(v.align, 1)
		c.p.localSize = alignUp(c.p.localSize, al)
		scope[v.name] = symbol{space: spLocal, addr: int64(c.p.localSize), size: v.size()}
		c.p.localSize += v.size()
	case "param":
		scope[v.name] = c.frameVar(v)
	case "shared":
		al := max(v.align, 1)
		c.p.sharedStatic = alignUp(c.p.sharedStatic, al)
		scope[v.name] = symbol{space: spShared, addr: int64(c.p.sharedStatic), size: v.size()}
		c.p.sharedStatic += v.size()
	default:
		return &compileError{c.decl.name, st.line, v.name, "unsupported variable space ." + v.space + " inside a function"}
	}
	return nil
}

// lookupSym finds a variable: function scopes, then the module.
func (c *compiler) lookupSym(name string) (symbol, bool) {
	for i := len(c.syms) - 1; i >= 0; i-- {
		if s, ok := c.syms[i][name]; ok {
			return s, true
		}
	}
	if g, ok := c.mod.globalAddr[name]; ok {
		return symbol{space: spGlobal, addr: int64(g.addr), size: g.size}, true
	}
	if v, ok := c.mod.sharedVars[name]; ok {
		if v.extern {
			return symbol{space: spShared, addr: -1}, true
		}
		off, ok := c.sharedOff[name]
		if !ok {
			al := max(v.align, 1)
			c.p.sharedStatic = alignUp(c.p.sharedStatic, al)
			off = int64(c.p.sharedStatic)
			c.p.sharedStatic += v.size()
			c.sharedOff[name] = off
		}
		return symbol{space: spShared, addr: off, size: v.size()}, true
	}
	return symbol{}, false
}

func (c *compiler) lookupReg(name string) (int32, bool) {
	for i := len(c.regs) - 1; i >= 0; i-- {
		if s, ok := c.regs[i][name]; ok {
			return s, true
		}
	}
	return 0, false
}

// constant returns a slot holding v in every lane.
func (c *compiler) constant(v uint64) int32 {
	if s, ok := c.consts[v]; ok {
		return s
	}
	s := c.newSlot()
	c.consts[v] = s
	c.p.consts = append(c.p.consts, constSlot{slot: s, v: v})
	return s
}

// dynConstant is a fresh constant slot holding an address inside the
// extern shared array, fixed up once the static layout is known.
func (c *compiler) dynConstant(off int64) int32 {
	s := c.newSlot()
	c.p.consts = append(c.p.consts, constSlot{slot: s, v: uint64(off)})
	c.dynFix = append(c.dynFix, s)
	return s
}

func (c *compiler) special(kind int) int32 {
	if s, ok := c.specials[kind]; ok {
		return s
	}
	s := c.newSlot()
	c.specials[kind] = s
	c.p.specials = append(c.p.specials, specialSlot{slot: s, kind: kind})
	return s
}

// errf reports an error of the instruction being compiled.
func (c *compiler) errf(st stmt, format string, args ...any) error {
	return &compileError{c.decl.name, st.line, st.text, fmt.Sprintf(format, args...)}
}

// source resolves a source operand to a slot: a register, a special
// register, an immediate of type typ, or a symbol's address.
func (c *compiler) source(st stmt, in *inst, op, typ string) (int32, error) {
	if op == "" {
		return 0, c.errf(st, "missing operand")
	}
	if op[0] == '%' {
		if s, ok := c.lookupReg(op); ok {
			return s, nil
		}
		if k, ok := specialNames[op]; ok {
			return c.special(k), nil
		}
		return 0, c.errf(st, "undeclared register %s", op)
	}
	if op[0] == '-' || op[0] >= '0' && op[0] <= '9' {
		v, err := parseImmediate(op, typ)
		if err != nil {
			return 0, c.errf(st, "bad immediate %s", op)
		}
		return c.constant(v), nil
	}
	// A symbol, possibly with an offset: sym, sym+8.
	name, off := op, int64(0)
	if i := strings.IndexAny(op, "+"); i > 0 {
		name = strings.TrimSpace(op[:i])
		n, err := strconv.ParseInt(strings.TrimSpace(op[i+1:]), 0, 64)
		if err != nil {
			return 0, c.errf(st, "bad offset in %s", op)
		}
		off = n
	}
	s, ok := c.lookupSym(name)
	if !ok {
		return 0, c.errf(st, "unknown symbol %s", name)
	}
	if s.space == spShared && s.addr < 0 {
		return c.dynConstant(off), nil
	}
	if s.space == spParamFrame {
		return 0, c.errf(st, "the address of parameter %s is not supported", name)
	}
	return c.constant(uint64(s.addr + off)), nil
}

// dest resolves a destination register ("_" is a sink slot).
func (c *compiler) dest(st stmt, op string) (int32, error) {
	if op == "_" {
		return c.newSlot(), nil
	}
	s, ok := c.lookupReg(op)
	if !ok {
		return 0, c.errf(st, "undeclared register %s", op)
	}
	return s, nil
}

// vector splits "{a, b, c}" into its elements; a plain operand is a
// vector of one.
func vector(op string) []string {
	if !strings.HasPrefix(op, "{") {
		return []string{op}
	}
	op = strings.TrimSuffix(strings.TrimPrefix(op, "{"), "}")
	var out []string
	for _, e := range strings.Split(op, ",") {
		out = append(out, strings.TrimSpace(e))
	}
	return out
}

// address resolves a memory operand [base+off] into in.a[0] and in.off,
// and returns the space a symbol base implies (0 for a register base).
func (c *compiler) address(st stmt, in *inst, op string) (uint8, error) {
	if !strings.HasPrefix(op, "[") || !strings.HasSuffix(op, "]") {
		return 0, c.errf(st, "expected an address, got %s", op)
	}
	body := strings.TrimSpace(op[1 : len(op)-1])
	base, off := body, int64(0)
	if i := strings.LastIndexAny(body, "+"); i > 0 {
		base = strings.TrimSpace(body[:i])
		n, err := strconv.ParseInt(strings.TrimSpace(body[i+1:]), 0, 64)
		if err != nil {
			return 0, c.errf(st, "bad address offset in %s", op)
		}
		off = n
	} else if i := strings.LastIndexAny(body, "-"); i > 0 {
		base = strings.TrimSpace(body[:i])
		n, err := strconv.ParseInt(strings.TrimSpace(body[i:]), 0, 64)
		if err != nil {
			return 0, c.errf(st, "bad address offset in %s", op)
		}
		off = n
	}
	in.off = off
	if base == "" {
		return 0, c.errf(st, "empty address")
	}
	if base[0] == '%' {
		s, ok := c.lookupReg(base)
		if !ok {
			return 0, c.errf(st, "undeclared register %s", base)
		}
		in.a[0] = s
		return 0, nil
	}
	if base[0] >= '0' && base[0] <= '9' {
		v, err := parseImmediate(base, ".u64")
		if err != nil {
			return 0, c.errf(st, "bad address %s", op)
		}
		in.a[0] = c.constant(v)
		return 0, nil
	}
	s, ok := c.lookupSym(base)
	if !ok {
		return 0, c.errf(st, "unknown symbol %s", base)
	}
	if s.space == spShared && s.addr < 0 {
		in.a[0] = c.dynConstant(0)
		return spShared, nil
	}
	in.a[0] = c.constant(uint64(s.addr))
	return s.space, nil
}

// instruction compiles one instruction statement.
func (c *compiler) instruction(st stmt) (inst, error) {
	in := inst{guard: -1, line: int32(st.line), fn: c.fn, text: st.text}
	if st.guard != "" {
		s, ok := c.lookupReg(st.guard)
		if !ok {
			return in, c.errf(st, "undeclared predicate %s", st.guard)
		}
		in.guard = s
		in.gneg = st.guardNeg
	}
	parts := strings.Split(st.opcode, ".")
	if err := c.build(st, &in, parts[0], parts[1:]); err != nil {
		return in, err
	}
	// Slots to lane-0 indices.
	if in.guard >= 0 {
		in.guard *= 32
	}
	for i := range in.d {
		in.d[i] *= 32
	}
	for i := range in.a {
		in.a[i] *= 32
	}
	return in, nil
}

// has reports whether mods contains m.
func has(mods []string, m string) bool {
	for _, x := range mods {
		if x == m {
			return true
		}
	}
	return false
}

// lastType returns the last type modifier (".s32") of mods, "" if none.
func lastType(mods []string) string {
	for i := len(mods) - 1; i >= 0; i-- {
		if typeSize("."+mods[i]) > 0 {
			return "." + mods[i]
		}
	}
	return ""
}

// sources resolves operands ops[from:] as sources of type typ.
func (c *compiler) sources(st stmt, in *inst, from int, typ string) error {
	for i := from; i < len(st.operands); i++ {
		s, err := c.source(st, in, st.operands[i], typ)
		if err != nil {
			return err
		}
		in.a[in.na] = s
		in.na++
	}
	return nil
}

// simple compiles "op d, a, b, ..." with one destination and sources of
// type typ.
func (c *compiler) simple(st stmt, in *inst, typ string, nsrc int) error {
	if len(st.operands) != nsrc+1 {
		return c.errf(st, "want %d operands, have %d", nsrc+1, len(st.operands))
	}
	d, err := c.dest(st, st.operands[0])
	if err != nil {
		return err
	}
	in.d[0] = d
	return c.sources(st, in, 1, typ)
}
