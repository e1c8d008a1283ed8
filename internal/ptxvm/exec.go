package ptxvm

// exec.go runs a launch: blocks spread over worker goroutines, warps of a
// block run one after another up to a barrier, lanes of a warp run in
// lockstep while they agree on the program counter.
//
// Divergence: each lane has its own program counter; the warp always
// runs the lanes at the smallest one. Code after an if/else or a loop has
// a larger address than the branches (callees are placed before their
// callers), so lanes that went ahead wait there and the warp reconverges
// where the compiler's control flow does. Warp-wide operations
// (shfl.sync, mma.sync, bar.warp.sync) require every lane named in their
// mask to arrive at the same instruction together; otherwise the launch
// fails, which a real GPU would not always report.

import (
	"fmt"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
)

// launch is one kernel launch being run.
type launch struct {
	dev     *Device
	prog    *program
	grid    [3]uint32
	block   [3]uint32
	params  []byte
	dyn     int // dynamic shared bytes
	shared  int // total shared bytes per block
	fault   atomic.Pointer[Fault]
	nlaunch uint64
}

// blockRun is the state of one block.
type blockRun struct {
	l      *launch
	ctaid  [3]uint32
	shared []byte
	race   *raceShadow
	warps  []*warp
	local  []byte // localSize bytes per thread
	nthr   int
}

// callFrame is a lane's return address and call site.
type callFrame struct {
	ret  int32
	site *callSite
}

// warp is 32 threads of a block.
type warp struct {
	b     *blockRun
	l     *launch
	code  []inst
	r     []uint64
	id    int
	lanes uint32 // lanes that exist (the last warp of a block may be partial)
	live  uint32 // lanes that have not exited
	atBar uint32 // lanes waiting at a barrier

	curPC   int32
	curMask uint32 // lanes running at curPC
	others  uint32 // runnable lanes elsewhere
	pcs     [32]int32
	calls   [32][]callFrame

	fault     *Fault
	steps     uint64      // instructions issued
	laneSteps uint64      // ... times the lanes that executed them
	lastAlloc *allocation // the global allocation of the last access
}

// worker runs blocks; it keeps its warps and buffers between blocks.
type worker struct {
	warps  []*warp
	b      blockRun
	shared []byte
	local  []byte
	race   raceShadow
	blocks uint64
	nthr   int
}

// run executes the launch and returns its fault, if any.
func (l *launch) run() *Fault {
	nblocks := int(l.grid[0]) * int(l.grid[1]) * int(l.grid[2])
	nw := min(l.dev.workers, nblocks)
	if nw <= 1 {
		w := l.newWorker()
		for i := 0; i < nblocks && l.fault.Load() == nil; i++ {
			w.runBlock(l, i)
		}
		w.report()
		return l.fault.Load()
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for k := 0; k < nw; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := l.newWorker()
			defer w.report()
			for l.fault.Load() == nil {
				i := int(next.Add(1) - 1)
				if i >= nblocks {
					return
				}
				w.runBlock(l, i)
			}
		}()
	}
	wg.Wait()
	return l.fault.Load()
}

// report adds the worker's counts to the device's statistics.
func (w *worker) report() {
	var st Stats
	for _, wp := range w.warps {
		st.WarpInstructions += wp.steps
		st.ThreadInstrs += wp.laneSteps
		wp.steps, wp.laneSteps = 0, 0
	}
	st.Blocks = w.blocks
	d := w.warps[0].l.dev
	d.statsMu.Lock()
	d.stats.WarpInstructions += st.WarpInstructions
	d.stats.ThreadInstrs += st.ThreadInstrs
	d.stats.Blocks += st.Blocks
	d.statsMu.Unlock()
	w.warps[0].l.prog.workers.Put(w)
}

func (l *launch) newWorker() *worker {
	p := l.prog
	nthr := int(l.block[0] * l.block[1] * l.block[2])
	// A worker of an earlier launch of the kernel keeps its register
	// files, constants filled in: setting them up costs more than a small
	// launch runs.
	if v := p.workers.Get(); v != nil {
		w := v.(*worker)
		if w.nthr == nthr && len(w.shared) == l.shared {
			for _, wp := range w.warps {
				wp.l = l
			}
			w.blocks = 0
			return w
		}
	}
	nwarps := (nthr + 31) / 32
	w := &worker{
		nthr:   nthr,
		shared: make([]byte, l.shared),
		local:  make([]byte, p.localSize*nthr),
	}
	if l.dev.raceCheck && l.shared > 0 {
		w.race.init(l.shared)
	}
	for i := 0; i < nwarps; i++ {
		wp := &warp{l: l, code: p.code, r: make([]uint64, p.nslots*32), id: i}
		n := min(32, nthr-32*i)
		wp.lanes = uint32(uint64(1)<<n - 1)
		for _, cs := range p.consts {
			s := wp.r[int(cs.slot)*32 : int(cs.slot)*32+32]
			for k := range s {
				s[k] = cs.v
			}
		}
		w.warps = append(w.warps, wp)
	}
	return w
}

// runBlock runs block number i (x fastest).
func (w *worker) runBlock(l *launch, i int) {
	gx, gy := int(l.grid[0]), int(l.grid[1])
	w.blocks++
	b := &w.b
	*b = blockRun{l: l, shared: w.shared, local: w.local, warps: w.warps}
	b.ctaid = [3]uint32{uint32(i % gx), uint32(i / gx % gy), uint32(i / (gx * gy))}
	b.nthr = int(l.block[0] * l.block[1] * l.block[2])
	clear(b.shared)
	clear(b.local)
	if l.dev.raceCheck && len(b.shared) > 0 {
		b.race = &w.race
		b.race.newBlock()
	}
	for _, wp := range b.warps {
		wp.reset(b)
	}
	if f := b.run(); f != nil {
		f.Block = b.ctaid
		l.fault.CompareAndSwap(nil, f)
	}
}

// reset prepares a warp for a new block.
func (wp *warp) reset(b *blockRun) {
	wp.b = b
	wp.live = wp.lanes
	wp.atBar = 0
	wp.curPC = wp.l.prog.entry
	wp.curMask = wp.lanes
	wp.others = 0
	wp.fault = nil
	for i := range wp.calls {
		wp.calls[i] = wp.calls[i][:0]
	}
	l := wp.l
	bx, by := l.block[0], l.block[1]
	for _, sp := range l.prog.specials {
		s := wp.r[int(sp.slot)*32 : int(sp.slot)*32+32]
		for lane := range s {
			t := uint32(wp.id*32 + lane)
			var v uint64
			switch sp.kind {
			case srTidX:
				v = uint64(t % bx)
			case srTidY:
				v = uint64(t / bx % by)
			case srTidZ:
				v = uint64(t / (bx * by))
			case srNtidX:
				v = uint64(bx)
			case srNtidY:
				v = uint64(by)
			case srNtidZ:
				v = uint64(l.block[2])
			case srCtaidX:
				v = uint64(b.ctaid[0])
			case srCtaidY:
				v = uint64(b.ctaid[1])
			case srCtaidZ:
				v = uint64(b.ctaid[2])
			case srNctaidX:
				v = uint64(l.grid[0])
			case srNctaidY:
				v = uint64(l.grid[1])
			case srNctaidZ:
				v = uint64(l.grid[2])
			case srLaneid:
				v = uint64(lane)
			case srWarpid:
				v = uint64(wp.id)
			case srNwarpid:
				v = 64
			case srSmid:
				v = 0
			case srNsmid:
				v = uint64(l.dev.cfg.SMs)
			case srLanemaskEq:
				v = 1 << lane
			case srLanemaskLt:
				v = 1<<lane - 1
			case srLanemaskLe:
				v = 1<<(lane+1) - 1
			case srLanemaskGt:
				v = uint64(^uint32(1<<(lane+1) - 1))
			case srLanemaskGe:
				v = uint64(^uint32(1<<lane - 1))
			case srClock, srClock64:
				v = wp.steps
			case srDynSmem:
				v = uint64(l.dyn)
			case srTotalSmem:
				v = uint64(l.shared)
			case srGridid:
				v = l.nlaunch
			}
			s[lane] = v
		}
	}
}

// run runs the block's warps to completion, releasing barriers when every
// live thread has arrived.
func (b *blockRun) run() *Fault {
	for {
		running := false
		for _, wp := range b.warps {
			if wp.live&^wp.atBar == 0 {
				continue
			}
			running = true
			wp.run()
			if wp.fault != nil {
				return wp.fault
			}
		}
		waiting := false
		for _, wp := range b.warps {
			if wp.atBar != 0 {
				waiting = true
			}
		}
		if !waiting {
			if !running {
				return nil
			}
			continue
		}
		// Every warp is blocked or done: release the barrier.
		for _, wp := range b.warps {
			if wp.live&^wp.atBar != 0 {
				// Cannot happen: run returns only when blocked or done.
				return wp.faultf(wp.curPC, "internal: warp %d returned while runnable", wp.id)
			}
		}
		if b.race != nil {
			b.race.barrier()
		}
		for _, wp := range b.warps {
			wp.releaseBarrier()
		}
	}
}

// releaseBarrier moves the lanes waiting at a barrier past it.
func (wp *warp) releaseBarrier() {
	m := wp.atBar
	if m == 0 {
		return
	}
	for mm := m; mm != 0; mm &= mm - 1 {
		l := bits.TrailingZeros32(mm)
		wp.pcs[l]++
	}
	wp.atBar = 0
	wp.curMask = 0
}

// pick chooses the lanes to run next: the runnable lanes at the smallest
// program counter. It returns false when no lane can run.
func (wp *warp) pick() bool {
	run := wp.live &^ wp.atBar
	if run == 0 {
		wp.curMask = 0
		return false
	}
	best := int32(1<<31 - 1)
	var mask uint32
	for mm := run; mm != 0; mm &= mm - 1 {
		l := bits.TrailingZeros32(mm)
		switch pc := wp.pcs[l]; {
		case pc < best:
			best, mask = pc, 1<<l
		case pc == best:
			mask |= 1 << l
		}
	}
	wp.curPC, wp.curMask, wp.others = best, mask, run&^mask
	return true
}

// store writes the current lanes' program counter back before the set of
// running lanes changes.
func (wp *warp) store() {
	for mm := wp.curMask; mm != 0; mm &= mm - 1 {
		wp.pcs[bits.TrailingZeros32(mm)] = wp.curPC
	}
}

// step moves the running lanes to pc: the next instruction or a jump.
func (wp *warp) step(pc int32, jump bool) {
	wp.curPC = pc
	if wp.others == 0 {
		return
	}
	if jump {
		wp.store()
		wp.pick()
		return
	}
	// Lanes waiting at pc join.
	for mm := wp.others; mm != 0; mm &= mm - 1 {
		l := bits.TrailingZeros32(mm)
		if wp.pcs[l] == pc {
			wp.curMask |= 1 << l
			wp.others &^= 1 << l
		}
	}
}

// maxSteps bounds the instructions one warp may run in a launch, so that
// a kernel that never ends fails instead of hanging the tests.
const maxSteps = 1 << 34

// run runs the warp until all its live lanes wait at a barrier or have
// exited, or a fault.
func (wp *warp) run() {
	if wp.curMask == 0 && !wp.pick() {
		return
	}
	code := wp.code
	for {
		pc := wp.curPC
		in := &code[pc]
		m := wp.curMask
		if in.guard >= 0 {
			g := wp.r[in.guard : in.guard+32]
			var pm uint32
			for mm := m; mm != 0; mm &= mm - 1 {
				l := bits.TrailingZeros32(mm)
				if (g[l] != 0) != in.gneg {
					pm |= 1 << l
				}
			}
			m = pm
		}
		wp.steps++
		wp.laneSteps += uint64(bits.OnesCount32(m))
		switch in.ctl {
		case ctlNone, ctlWarpSync:
			if m != 0 {
				in.exec(wp, in, m)
				if wp.fault != nil {
					return
				}
			}
			wp.step(pc+1, false)
		case ctlBra:
			switch m {
			case wp.curMask:
				wp.step(in.target, true)
			case 0:
				wp.step(pc+1, false)
			default:
				for mm := wp.curMask; mm != 0; mm &= mm - 1 {
					l := bits.TrailingZeros32(mm)
					if m&(1<<l) != 0 {
						wp.pcs[l] = in.target
					} else {
						wp.pcs[l] = pc + 1
					}
				}
				wp.curMask = 0
				wp.pick()
			}
		case ctlBar:
			wp.store()
			if m != 0 {
				wp.atBar |= m
			}
			for mm := wp.curMask &^ m; mm != 0; mm &= mm - 1 {
				wp.pcs[bits.TrailingZeros32(mm)] = pc + 1
			}
			wp.curMask = 0
			if !wp.pick() {
				return
			}
		case ctlExit:
			wp.store()
			wp.live &^= m
			for mm := wp.curMask &^ m; mm != 0; mm &= mm - 1 {
				wp.pcs[bits.TrailingZeros32(mm)] = pc + 1
			}
			wp.curMask = 0
			if !wp.pick() {
				return
			}
		case ctlCall:
			wp.store()
			site := in.call
			for mm := m; mm != 0; mm &= mm - 1 {
				l := bits.TrailingZeros32(mm)
				wp.calls[l] = append(wp.calls[l], callFrame{ret: pc + 1, site: site})
				wp.frameCopy(l, site.args)
				wp.pcs[l] = site.callee.start
			}
			for mm := wp.curMask &^ m; mm != 0; mm &= mm - 1 {
				wp.pcs[bits.TrailingZeros32(mm)] = pc + 1
			}
			wp.curMask = 0
			wp.pick()
		case ctlRet:
			wp.store()
			for mm := m; mm != 0; mm &= mm - 1 {
				l := bits.TrailingZeros32(mm)
				cs := wp.calls[l]
				if len(cs) == 0 {
					wp.live &^= 1 << l // ret from the entry
					continue
				}
				fr := cs[len(cs)-1]
				wp.calls[l] = cs[:len(cs)-1]
				wp.frameCopy(l, fr.site.rets)
				wp.pcs[l] = fr.ret
			}
			for mm := wp.curMask &^ m; mm != 0; mm &= mm - 1 {
				wp.pcs[bits.TrailingZeros32(mm)] = pc + 1
			}
			wp.curMask = 0
			if !wp.pick() {
				return
			}
		case ctlTrap:
			if m != 0 {
				wp.fault = wp.faultf(pc, "trap instruction executed (lane %d)", bits.TrailingZeros32(m))
				wp.fault.Kind = FaultTrap
				return
			}
			wp.step(pc+1, false)
		}
		if wp.curMask == 0 {
			return
		}
		if wp.steps > maxSteps {
			wp.fault = wp.faultf(pc, "the warp ran more than %d instructions (an endless loop?)", uint64(maxSteps))
			return
		}
	}
}

// frameCopy copies parameter bytes within lane l's frame area.
func (wp *warp) frameCopy(l int, cps []frameCopy) {
	loc := wp.localOf(l)
	for _, c := range cps {
		copy(loc[c.to:c.to+c.size], loc[c.from:c.from+c.size])
	}
}

// localOf returns lane l's local memory.
func (wp *warp) localOf(l int) []byte {
	n := wp.l.prog.localSize
	t := wp.id*32 + l
	return wp.b.local[t*n : (t+1)*n]
}

// tid returns lane l's thread index within the block, as (x, y, z).
func (wp *warp) tid(l int) [3]uint32 {
	t := uint32(wp.id*32 + l)
	bx, by := wp.l.block[0], wp.l.block[1]
	return [3]uint32{t % bx, t / bx % by, t / (bx * by)}
}

// faultf builds a fault at pc.
func (wp *warp) faultf(pc int32, format string, args ...any) *Fault {
	in := &wp.code[pc]
	f := &Fault{
		Kernel: wp.l.prog.name,
		Func:   in.fn.name,
		Line:   int(in.line),
		Instr:  in.text,
		Msg:    fmt.Sprintf(format, args...),
	}
	if wp.b != nil {
		f.Block = wp.b.ctaid
	}
	return f
}

// laneFault records a fault of lane l at the current instruction.
func (wp *warp) laneFault(l int, kind FaultKind, addr uint64, format string, args ...any) {
	if wp.fault != nil {
		return
	}
	f := wp.faultf(wp.curPC, format, args...)
	f.Kind = kind
	f.Thread = wp.tid(l)
	f.Addr = addr
	wp.fault = f
}

var defaultWorkers = runtime.GOMAXPROCS(0)
