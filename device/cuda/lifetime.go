package cuda

import (
	"sync/atomic"
	"time"
)

// The backend's lifetime. Close unloads the modules, destroys the streams
// and releases the context, after which a driver call with the old
// handles is undefined (at best an error, at worst a crash in the
// driver). So every path into the driver (launches, copies,
// synchronisations, allocations, cache flushes) passes a gate: enter
// counts the call in, leave counts it out, and Close shuts the gate and
// waits until no call is in; calls that come later fail with errClosed
// before touching the driver. Buffers' cleanups after Close touch only
// the allocator's bookkeeping (put).
//
// The gate is one atomic word: entering and leaving are two atomic adds
// and allocate nothing, so the launch path stays cheap
// (BenchmarkGate); unlike a sync.RWMutex, a call may enter again while
// inside (an op that allocates a scratch buffer and then launches) without
// deadlocking against a waiting Close.

// gateClosed is the gate word's closed bit, above any count of calls.
const gateClosed = 1 << 62

// gate counts the calls in flight into a backend's driver. Its zero value
// is an open gate.
type gate struct {
	state atomic.Int64 // gateClosed | calls in flight
}

// enter counts a call in; false, with nothing counted, once the gate is
// closed.
func (g *gate) enter() bool {
	if g.state.Add(1)&gateClosed != 0 {
		g.leave()
		return false
	}
	return true
}

// leave counts a call out.
func (g *gate) leave() { g.state.Add(-1) }

// close shuts the gate and waits until every call in flight has left. It
// returns false, at once, when the gate was already closed. It polls:
// Close is rare, and the calls' path then needs nothing but the two adds.
func (g *gate) close() bool {
	if g.state.Or(gateClosed)&gateClosed != 0 {
		return false
	}
	for pause := time.Microsecond; g.state.Load() != gateClosed; pause = min(2*pause, time.Millisecond) {
		time.Sleep(pause)
	}
	return true
}

// closed reports whether close has begun.
func (g *gate) closed() bool { return g.state.Load()&gateClosed != 0 }

// enter admits a call into the driver, or fails with errClosed (named by
// op) once Close has begun. Each successful enter needs a leave.
func (b *Backend) enter(op string) error {
	if !b.gate.enter() {
		return b.errf("%s: %w", op, errClosed)
	}
	return nil
}

// leave ends a call admitted by enter.
func (b *Backend) leave() { b.gate.leave() }
