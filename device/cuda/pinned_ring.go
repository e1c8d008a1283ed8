package cuda

import (
	"fmt"
	"iter"
	"sync"
)

// The host side of staged uploads (pinned.go), in pure Go without the cuda
// build tag so that it is tested without a GPU: stageRing is the
// bookkeeping of the page-locked buffer (which bytes hold data that a
// queued copy may still read, and which events track each piece), and
// stageQueue cuts uploads into pieces, copies them into the ring and
// queues their device copies through a stageEngine, waiting for earlier
// copies when the ring is full. pinned.go implements stageEngine with the
// copy stream and CUDA events; the tests with a simulated copy engine.

const (
	// stageCapacity is the size of a device's pinned staging buffer. It
	// holds the copies in flight: a few loader batches (a 64x784 float32
	// batch is 196 KiB, a 512x784 one 1.5 MiB) or 8 pieces of a large
	// upload. Pinned memory is taken from the OS for good and cannot be
	// swapped, so it stays modest; it is allocated on the first staged
	// upload, not when the device opens.
	stageCapacity = 32 << 20
	// stageChunk is the largest piece of an upload that goes through the
	// ring at once. Larger uploads are cut into pieces, so an upload of
	// any size needs no more pinned memory, and the host copy of one
	// piece overlaps the DMA of the previous ones.
	stageChunk = 4 << 20
	// stageAlign aligns every piece in the buffer, so that host copies
	// into it and DMA reads from it start on whole cache lines (and the
	// 256-byte boundaries device allocations have too).
	stageAlign = 256
	// stageDirectMax is the largest upload copied straight from Go memory
	// on the compute stream rather than staged: scalars, label vectors.
	// The driver buffers such small pageable sources itself, and the
	// staged path's two cross-stream event waits would cost the GPU more
	// than the copy. (TestStagedUploadDoesNotWaitForKernels logs how long
	// a small direct upload takes behind queued kernels.)
	stageDirectMax = 64 << 10
)

// The ring relies on these relations; the array sizes fail to compile
// when a change breaks one.
var (
	_ [-(stageCapacity % stageAlign)]struct{}  // capacity is a whole number of aligned pieces
	_ [-(stageChunk % stageAlign)]struct{}     // ... and so is every full chunk
	_ [stageCapacity/stageChunk - 2]struct{}   // two chunks or more in flight, or nothing overlaps
	_ [stageChunk/16 - stageDirectMax]struct{} // the emulator's pieces (pinned.go) still exceed direct uploads
)

// stagedUpload reports whether an upload of size bytes goes through the
// staging ring rather than directly from Go memory.
func stagedUpload(size int64) bool { return size > stageDirectMax }

// stageChunks yields the offset and length of the pieces an upload of
// size bytes is cut into: consecutive, each at most chunk bytes.
func stageChunks(size, chunk int64) iter.Seq2[int64, int64] {
	return func(yield func(off, n int64) bool) {
		for off := int64(0); off < size; off += chunk {
			if !yield(off, min(chunk, size-off)) {
				return
			}
		}
	}
}

// alignUp rounds n up to a multiple of a (a power of two).
func alignUp(n, a int64) int64 { return (n + a - 1) &^ (a - 1) }

// regionState is where a region of the ring is in its life.
type regionState uint8

const (
	// regionFilling: reserved by an upload that is copying its data in
	// from Go memory or queueing its device copy. Nothing on the device
	// reads it yet.
	regionFilling regionState = iota
	// regionInFlight: its device copy is queued; the copy engine may be
	// reading it until the region's copied event completes.
	regionInFlight
	// regionDone: the copy finished (or was never queued). Its bytes are
	// reused once every older region is done too.
	regionDone
)

// stageRegion is one piece of an upload in the ring.
type stageRegion struct {
	id    uint64
	start int64 // first byte it holds, including the end of the buffer it skipped to wrap
	off   int64 // where its data begins
	size  int64 // its data bytes, rounded up to stageAlign
	event int   // index of its event pair (stager.events)
	state regionState
}

// reserveResult says whether a reservation succeeded, and what to do when
// it did not.
type reserveResult uint8

const (
	reserved reserveResult = iota
	// reserveFull: the bytes are taken; wait for the oldest region
	// (oldest) to be done and try again.
	reserveFull
	// reserveNoEvent: every event pair is in use; create one, register
	// it with addEvent and try again.
	reserveNoEvent
	// reserveTooLarge: the piece is larger than the whole ring; waiting
	// cannot help (callers cut uploads into chunks of stageChunk bytes).
	reserveTooLarge
)

// stageRing allocates the pinned buffer as a ring: regions are reserved at
// the head in order and released from the tail in the same order. The
// copies of different goroutines may finish out of order; a region that
// is done behind an older one still in flight waits for it, which keeps
// the free space one contiguous stretch (two at the wrap) and the
// bookkeeping O(1). The caller serialises all calls (stager.mu).
type stageRing struct {
	capacity int64 // a multiple of stageAlign
	head     int64 // where the next region starts, in [0, capacity)
	// live holds the regions not yet released, oldest first; their ids
	// are consecutive, so a region's index is id - live[0].id, and their
	// bytes follow each other around the ring from live[0].start to head.
	live   []stageRegion
	nextID uint64
	// freeEvents are event pair indices no live region uses; events is
	// the number of pairs registered.
	freeEvents []int
	events     int
}

func newStageRing(capacity int64) stageRing { return stageRing{capacity: capacity} }

// reserve takes n bytes (at most the capacity; rounded up to stageAlign)
// for a new region in the filling state.
func (r *stageRing) reserve(n int64) (stageRegion, reserveResult) {
	size := alignUp(max(n, 1), stageAlign)
	if size > r.capacity {
		return stageRegion{}, reserveTooLarge
	}
	start, off, ok := r.place(size)
	if !ok {
		return stageRegion{}, reserveFull
	}
	if len(r.freeEvents) == 0 {
		// Only once there is room: a full ring releases a region, and
		// its events, before this one can go in, so the number of event
		// sets stays the largest number of regions live at once.
		return stageRegion{}, reserveNoEvent
	}
	k := len(r.freeEvents) - 1
	reg := stageRegion{id: r.nextID, start: start, off: off, size: size, event: r.freeEvents[k], state: regionFilling}
	r.freeEvents = r.freeEvents[:k]
	r.nextID++
	r.live = append(r.live, reg)
	r.head = (off + size) % r.capacity
	return reg, reserved
}

// place finds size contiguous free bytes: at the head, or at the start of
// the buffer when the stretch between the head and the end is too short
// (the region then also holds that stretch, so that releasing it frees it).
func (r *stageRing) place(size int64) (start, off int64, ok bool) {
	if len(r.live) == 0 {
		r.head = 0 // nothing in flight: start over, to reuse the same (cache-warm) bytes
		return 0, 0, true
	}
	tail := r.live[0].start
	switch {
	case r.head > tail: // free: [head, capacity) and [0, tail)
		if size <= r.capacity-r.head {
			return r.head, r.head, true
		}
		if size <= tail {
			return r.head, 0, true
		}
	case r.head < tail: // free: [head, tail)
		if size <= tail-r.head {
			return r.head, r.head, true
		}
	}
	// head == tail with live regions: every byte is taken.
	return 0, 0, false
}

// addEvent registers a new event pair and returns its index, which is
// the number of pairs registered before it.
func (r *stageRing) addEvent() int {
	i := r.events
	r.events++
	r.freeEvents = append(r.freeEvents, i)
	return i
}

// index returns the position in live of region id, or -1 when it was
// released (or never reserved).
func (r *stageRing) index(id uint64) int {
	if len(r.live) == 0 || id < r.live[0].id || id-r.live[0].id >= uint64(len(r.live)) {
		return -1
	}
	return int(id - r.live[0].id)
}

// submit records that region id's copy is queued. It reports false for
// an unknown id or a region that is not filling.
func (r *stageRing) submit(id uint64) bool {
	i := r.index(id)
	if i < 0 || r.live[i].state != regionFilling {
		return false
	}
	r.live[i].state = regionInFlight
	return true
}

// finish records that region id's copy completed, or that it was never
// queued, and releases it with every done region behind it. Finishing a
// region already released is harmless (two goroutines may both see the
// same copy complete); it reports false.
func (r *stageRing) finish(id uint64) bool {
	i := r.index(id)
	if i < 0 || r.live[i].state == regionDone {
		return false
	}
	r.live[i].state = regionDone
	for len(r.live) > 0 && r.live[0].state == regionDone {
		r.freeEvents = append(r.freeEvents, r.live[0].event)
		r.live = r.live[1:]
	}
	if len(r.live) == 0 {
		r.head = 0
	}
	return true
}

// oldest returns the oldest live region: the one to wait for when the ring
// is full. It is never done (done regions at the tail are released).
func (r *stageRing) oldest() (stageRegion, bool) {
	if len(r.live) == 0 {
		return stageRegion{}, false
	}
	return r.live[0], true
}

// used is the number of bytes held by live regions, wrap padding included.
func (r *stageRing) used() int64 {
	if len(r.live) == 0 {
		return 0
	}
	tail := r.live[0].start
	if r.head > tail {
		return r.head - tail
	}
	return r.capacity - tail + r.head
}

// inFlight counts the live regions that are not done.
func (r *stageRing) inFlight() int {
	n := 0
	for _, reg := range r.live {
		if reg.state != regionDone {
			n++
		}
	}
	return n
}

// stageEngine is the device side of staged uploads, with events of type E:
// the CUDA backend's copy stream and event pairs (pinned.go), or a
// simulated copy engine in tests. Each region of the ring has its own E,
// created on demand and reused once the region is released.
type stageEngine[E any] interface {
	// newEvents creates the events of one more region.
	newEvents() (E, error)
	// queueCopy queues the copy of src, bytes in the pinned buffer, to
	// device address dst and records ev after it. With first, the copy
	// is ordered after the work queued on the compute stream so far; with
	// last, the compute stream's later work is ordered after it (and,
	// the copies being queued in order, after the upload's earlier
	// pieces). It must not wait for the copy.
	queueCopy(ev E, dst uintptr, src []byte, first, last bool) error
	// done reports, without waiting, whether the copy last recorded on ev
	// has completed.
	done(ev E) (bool, error)
	// wait blocks until the copy last recorded on ev has completed.
	wait(ev E) error
	// drain blocks until every queued copy has completed.
	drain() error
}

// stageQueue stages uploads through a pinned buffer. It is safe for
// concurrent use: each upload holds at most one region it is filling, and
// waits, for ring space, only for copies already queued, so uploads from
// several goroutines never wait for each other in a cycle.
type stageQueue[E any] struct {
	mu     sync.Mutex
	cond   sync.Cond // L is &mu; broadcast when a region leaves the filling state or is released
	ring   stageRing
	buf    []byte // the pinned buffer
	chunk  int64  // largest piece
	events []E    // by the ring's event index
	chunks int64  // pieces queued
	waits  int64  // times an upload blocked on an earlier copy for ring space
}

// newStageQueue returns a queue over the pinned buffer buf (a multiple of
// stageAlign bytes), queueing pieces of at most chunk bytes.
func newStageQueue[E any](buf []byte, chunk int64) *stageQueue[E] {
	q := &stageQueue[E]{ring: newStageRing(int64(len(buf))), buf: buf, chunk: chunk}
	q.cond.L = &q.mu
	return q
}

// upload copies src into the ring piece by piece and queues each piece's
// copy to dst (plus the piece's offset). When it returns, src may be
// reused; the copies may still be running. After an error, no copy of
// this upload is running or queued any more.
func (q *stageQueue[E]) upload(e stageEngine[E], dst uintptr, src []byte) error {
	size := int64(len(src))
	queued := false
	for off, n := range stageChunks(size, q.chunk) {
		reg, ev, err := q.reserve(e, n)
		if err != nil {
			return q.abort(e, queued, nil, err)
		}
		piece := q.buf[reg.off : reg.off+n]
		copy(piece, src[off:off+n])
		if err := e.queueCopy(ev, dst+uintptr(off), piece, off == 0, off+n == size); err != nil {
			return q.abort(e, true, &reg, fmt.Errorf("piece [%d, %d) of %d bytes: %w", off, off+n, size, err))
		}
		q.mu.Lock()
		q.ring.submit(reg.id)
		q.chunks++
		q.cond.Broadcast()
		q.mu.Unlock()
		queued = true
	}
	return nil
}

// abort cleans up after a failed upload and returns its error. When
// pieces may have been queued it first drains the engine: the compute
// stream was not told to wait for them, so a late copy could otherwise
// write into the destination after the caller freed it, and the failed
// piece's copy, if it was queued, could still be reading reg when the
// ring hands it out again.
func (q *stageQueue[E]) abort(e stageEngine[E], queued bool, reg *stageRegion, err error) error {
	if queued {
		if de := e.drain(); de != nil {
			err = fmt.Errorf("%w; then waiting for the copies already queued: %w", err, de)
		}
	}
	if reg != nil {
		q.mu.Lock()
		q.ring.finish(reg.id)
		q.cond.Broadcast()
		q.mu.Unlock()
	}
	return err
}

// reserve returns a region of n bytes in the filling state and its
// events, waiting for the oldest copies to finish while the ring is full.
func (q *stageQueue[E]) reserve(e stageEngine[E], n int64) (stageRegion, E, error) {
	var none E
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		reg, res := q.ring.reserve(n)
		switch res {
		case reserved:
			return reg, q.events[reg.event], nil
		case reserveTooLarge:
			return stageRegion{}, none, fmt.Errorf("a piece of %d bytes does not fit the staging ring of %d bytes", n, q.ring.capacity)
		case reserveNoEvent:
			// One set of events per region in flight at most: a
			// handful. Creating them under the lock keeps q.events
			// and the ring's indices in step.
			ev, err := e.newEvents()
			if err != nil {
				return stageRegion{}, none, err
			}
			q.events = append(q.events, ev)
			q.ring.addEvent()
			continue
		}
		old, _ := q.ring.oldest() // full, so something is live
		if old.state == regionFilling {
			// Its owner is copying into it or queueing its copy, and
			// broadcasts when it is done.
			q.cond.Wait()
			continue
		}
		// Wait for the oldest copy without the lock, so that other
		// uploads can submit and release regions meanwhile. Should
		// another goroutine release the region and its events be
		// recorded again meanwhile, the wait lasts longer but is still
		// correct, and finish ignores the released id.
		ev := q.events[old.event]
		q.mu.Unlock()
		done, err := e.done(ev)
		waited := err == nil && !done
		if waited {
			err = e.wait(ev)
		}
		q.mu.Lock()
		if waited {
			q.waits++
		}
		if err != nil {
			return stageRegion{}, none, fmt.Errorf("waiting for an earlier staged copy to free ring space (an earlier kernel or copy failed?): %w", err)
		}
		q.ring.finish(old.id)
		q.cond.Broadcast()
	}
}

// stageQueueStats are a queue's counters.
type stageQueueStats struct {
	chunks, waits int64
	inFlight      int
}

func (q *stageQueue[E]) stats() stageQueueStats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return stageQueueStats{chunks: q.chunks, waits: q.waits, inFlight: q.ring.inFlight()}
}
