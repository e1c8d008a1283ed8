package ptxvm

// racecheck: shared-memory hazards between the threads of a block. Every
// 4-byte word of shared memory remembers, for the current barrier
// interval, the thread that last wrote it and the thread(s) that read it.
// Two accesses to one word between two barriers, by different threads,
// at least one a write and neither atomic, are a hazard: a real GPU may
// order them either way. Epochs grow monotonically, so the shadow words
// need no clearing between barriers or blocks.

import "fmt"

const noThread = -1
const manyThreads = -2

type shadowWord struct {
	wEpoch uint32
	rEpoch uint32
	writer int32
	reader int32 // a thread, or manyThreads
}

type raceShadow struct {
	words []shadowWord
	epoch uint32
}

func (r *raceShadow) init(shared int) {
	r.words = make([]shadowWord, (shared+3)/4)
	r.epoch = 1
}

// newBlock and barrier start a new interval.
func (r *raceShadow) newBlock() { r.bump() }
func (r *raceShadow) barrier()  { r.bump() }

func (r *raceShadow) bump() {
	r.epoch++
	if r.epoch == 0 { // wrapped: forget everything
		clear(r.words)
		r.epoch = 1
	}
}

// access records lane l's access of n bytes at shared offset addr and
// returns the fault of a hazard (also recorded on the warp).
func (r *raceShadow) access(wp *warp, l int, addr, n uint64, write bool) *Fault {
	t := int32(wp.id*32 + l)
	e := r.epoch
	for w := addr / 4; w < (addr+n+3)/4; w++ {
		s := &r.words[w]
		if s.wEpoch == e && s.writer != t {
			kind := "read-after-write"
			if write {
				kind = "write-after-write"
			}
			return r.fault(wp, l, w*4, kind, s.writer, write)
		}
		if write && s.rEpoch == e && s.reader != t {
			other := s.reader
			if other == manyThreads {
				other = noThread
			}
			return r.fault(wp, l, w*4, "write-after-read", other, write)
		}
		if write {
			s.wEpoch, s.writer = e, t
		} else if s.rEpoch != e {
			s.rEpoch, s.reader = e, t
		} else if s.reader != t {
			s.reader = manyThreads
		}
	}
	return nil
}

func (r *raceShadow) fault(wp *warp, l int, addr uint64, kind string, other int32, write bool) *Fault {
	bx, by := wp.l.block[0], wp.l.block[1]
	who := "several threads"
	var ot [3]uint32
	if other >= 0 {
		o := uint32(other)
		ot = [3]uint32{o % bx, o / bx % by, o / (bx * by)}
		who = fmt.Sprintf("thread (%d,%d,%d)", ot[0], ot[1], ot[2])
	}
	me := wp.tid(l)
	wp.laneFault(l, FaultRace, addr, "shared memory race (%s) at offset %#x: thread (%d,%d,%d) %ss it and %s accessed it since the last barrier, with no bar.sync between",
		kind, addr, me[0], me[1], me[2], rw(write), who)
	if wp.fault != nil {
		wp.fault.Other = ot
		wp.fault.OtherKnown = other >= 0
	}
	return wp.fault
}
