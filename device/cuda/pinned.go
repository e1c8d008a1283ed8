package cuda

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Staged uploads: the pinned staging ring of a device.
//
// An upload from Go memory (pageable) makes the driver copy the data into
// its own pinned buffers first, and cuMemcpyHtoDAsync may then wait for the
// stream's queued kernels before it returns: the data loader's prefetch
// goroutine would stall behind the training step it is meant to overlap.
// A staged upload instead copies the Go slice into a region of a
// page-locked buffer (on the calling goroutine), queues a DMA from there
// on a second, copy-only stream, and returns. The ordering is done on the
// device with events, never by the host:
//
//   - copy after compute: an event recorded on the compute stream when
//     the upload starts, waited on by the copy stream before the copy, so
//     the copy cannot overwrite memory that kernels queued earlier still
//     read (x.CopyFrom on a live tensor, or a block the caching allocator
//     handed out again while its previous owner's kernels are queued);
//   - compute after copy: an event recorded on the copy stream after the
//     copy, waited on by the compute stream, so every kernel and Download
//     queued after Upload returns sees the data;
//   - region reuse: the same event marks the staging region busy until it
//     completes; the ring (stageRing and stageQueue in pinned_ring.go, pure
//     Go and tested without a GPU) hands the bytes out again only then
//     (cuEventQuery, or cuEventSynchronize when the ring is full).
//
// Why a freed and reused destination is never written by a late copy: a
// buffer's block goes back to the allocator's cache only when the buffer
// is freed, which is after Upload returned (Upload keeps the buffer
// alive). By then the compute stream already waits on the copy's event,
// so any kernel of the block's next owner, queued later on the compute
// stream, runs after the copy; a staged upload of the next owner is queued
// later on the same copy stream, so it runs after it too (and after the
// kernels before it, by the first rule); Download runs on the compute
// stream; and the allocator's emptyCache synchronises the compute stream,
// which includes its wait on the copy, before cuMemFree.
//
// Deadlock freedom: every wait (on either stream) is for an event recorded
// before the wait was queued, so the waits follow the order in which the
// host queued the work and cannot form a cycle; a goroutine never holds a
// region in the filling state while it waits for another.

// stageEvents are the events of one ring region.
type stageEvents struct {
	before event // recorded on the compute stream; the copy stream waits on it
	copied event // recorded on the copy stream after the copy
}

// stager is the pinned staging ring of one device and its copy stream,
// created on the first staged upload. Its zero value is ready for use.
type stager struct {
	// life is held shared by every staged upload and by Synchronize and
	// exclusively by close: the pinned memory, the copy stream and the
	// events outlive every call that uses them.
	life   sync.RWMutex
	closed bool // set under life's exclusive lock

	mu     sync.Mutex // guards the fields below, set once by start
	q      *stageQueue[stageEvents]
	off    error // why staging is unavailable (uploads then copy directly)
	host   unsafe.Pointer
	stream stream // the copy stream

	// forceDirect sends every upload down the direct path: the
	// benchmarks compare the two.
	forceDirect atomic.Bool

	staged, stagedBytes, direct atomic.Int64
}

// StagingStats describes a device's pinned staging ring. MemoryStats counts
// device memory only; the ring's page-locked host memory is reported here.
type StagingStats struct {
	PinnedBytes int64  // page-locked host memory held (0 until the first staged upload)
	Staged      int64  // uploads copied through the ring
	StagedBytes int64  // ... their bytes
	Chunks      int64  // pieces queued (an upload above 4 MiB is several)
	Direct      int64  // uploads copied straight from Go memory: small ones, or all when staging is off
	Waits       int64  // times an upload waited for ring space held by a copy not finished yet
	InFlight    int    // pieces whose copies may still be running
	Disabled    string // why staging is off; empty while it is on
}

func (s StagingStats) String() string {
	str := fmt.Sprintf("pinned %s, %d staged uploads (%s in %d pieces, %d waits for space, %d in flight), %d direct uploads",
		fmtBytes(s.PinnedBytes), s.Staged, fmtBytes(s.StagedBytes), s.Chunks, s.Waits, s.InFlight, s.Direct)
	if s.Disabled != "" {
		str += "; staging off: " + s.Disabled
	}
	return str
}

// StagingStats returns the counters of the device's pinned staging ring.
func (b *Backend) StagingStats() StagingStats {
	s := &b.stage
	st := StagingStats{Staged: s.staged.Load(), StagedBytes: s.stagedBytes.Load(), Direct: s.direct.Load()}
	s.mu.Lock()
	q, off := s.q, s.off
	s.mu.Unlock()
	if q != nil {
		qs := q.stats()
		st.PinnedBytes, st.Chunks, st.Waits, st.InFlight = int64(len(q.buf)), qs.chunks, qs.waits, qs.inFlight
	}
	if off != nil {
		st.Disabled = off.Error()
	}
	return st
}

// start creates the copy stream and the pinned buffer on first use and
// returns the queue, or nil when they cannot be had (the caller copies
// directly; the reason stays in s.off and StagingStats).
func (s *stager) start(b *Backend) *stageQueue[stageEvents] {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.q != nil || s.off != nil {
		return s.q
	}
	// Non-blocking: the copy stream must not wait for (nor be waited for
	// by) the legacy default stream, only for our events.
	cs, err := b.drv.newStream()
	if err != nil {
		s.off = fmt.Errorf("creating the copy stream: %w", err)
		return nil
	}
	capacity, chunk := b.stageSizes()
	host, err := b.drv.hostAlloc(capacity)
	if err != nil {
		_ = b.drv.destroyStream(cs)
		s.off = fmt.Errorf("cuMemHostAlloc of %s of pinned memory: %w", fmtBytes(capacity), err)
		return nil
	}
	s.stream, s.host = cs, host
	s.q = newStageQueue[stageEvents](unsafe.Slice((*byte)(host), capacity), chunk)
	return s.q
}

// upload copies size bytes from Go memory at src to device address dst
// through the ring, ordered as the file's comment describes. It reports
// handled false, with nothing done, when staging is unavailable; the
// caller then copies directly. src may be reused when it returns.
func (s *stager) upload(b *Backend, dst devicePtr, src unsafe.Pointer, size int64) (handled bool, _ error) {
	s.life.RLock()
	defer s.life.RUnlock()
	if s.closed {
		return true, errClosed
	}
	q := s.start(b)
	if q == nil {
		return false, nil
	}
	if err := q.upload(stageDevice{b, s.stream}, uintptr(dst), unsafe.Slice((*byte)(src), size)); err != nil {
		return true, err
	}
	s.staged.Add(1)
	s.stagedBytes.Add(size)
	return true, nil
}

// stageDevice is the stageEngine of a device: its compute stream, its
// copy stream and CUDA events.
type stageDevice struct {
	b          *Backend
	copyStream stream
}

// newEvents creates the events of one region. Neither records timing
// (cheaper to record and wait on). copied blocks the waiting thread
// instead of spinning: the host waits on it only when the ring is full,
// behind copies that may take milliseconds.
func (d stageDevice) newEvents() (stageEvents, error) {
	var ev stageEvents
	var err error
	if ev.before, err = d.b.drv.newEvent(false); err == nil {
		if ev.copied, err = d.b.drv.newEvent(true); err != nil {
			_ = d.b.drv.destroyEvent(ev.before)
		}
	}
	if err != nil {
		return stageEvents{}, fmt.Errorf("creating the staging ring's events (cuEventCreate): %w", err)
	}
	return ev, nil
}

func (d stageDevice) queueCopy(ev stageEvents, dst uintptr, src []byte, first, last bool) error {
	return d.b.drv.stageCopy(d.b.stream, d.copyStream, ev.before, ev.copied, devicePtr(dst), unsafe.Pointer(&src[0]), int64(len(src)), first, last)
}

func (d stageDevice) done(ev stageEvents) (bool, error) { return d.b.drv.eventDone(ev.copied) }

func (d stageDevice) wait(ev stageEvents) error {
	if err := d.b.drv.syncEvent(ev.copied); err != nil {
		return fmt.Errorf("cuEventSynchronize: %w", err)
	}
	return nil
}

func (d stageDevice) drain() error {
	if err := d.b.drv.syncStream(d.copyStream); err != nil {
		return fmt.Errorf("cuStreamSynchronize on the copy stream: %w", err)
	}
	return nil
}

// synchronize waits for every copy queued on the copy stream.
func (s *stager) synchronize(b *Backend) error {
	s.life.RLock()
	defer s.life.RUnlock()
	s.mu.Lock()
	q := s.q
	s.mu.Unlock()
	if s.closed || q == nil {
		return nil
	}
	if err := (stageDevice{b, s.stream}).drain(); err != nil {
		return fmt.Errorf("%w (a staged upload failed)", err)
	}
	return nil
}

// close waits for the uploads in progress and their copies, then frees the
// events, the copy stream and the pinned memory. Later uploads fail.
func (s *stager) close(b *Backend) error {
	s.life.Lock()
	defer s.life.Unlock()
	s.closed = true
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.q == nil {
		return nil
	}
	var errs []error
	// The pinned memory must not be freed under a DMA still reading it.
	if e := b.drv.syncStream(s.stream); e != nil {
		errs = append(errs, fmt.Errorf("cuStreamSynchronize on the copy stream: %w", e))
	}
	for i := range s.q.events {
		ev := &s.q.events[i]
		if e := errors.Join(b.drv.destroyEvent(ev.before), b.drv.destroyEvent(ev.copied)); e != nil {
			errs = append(errs, fmt.Errorf("cuEventDestroy: %w", e))
		}
		*ev = stageEvents{}
	}
	if e := b.drv.destroyStream(s.stream); e != nil {
		errs = append(errs, fmt.Errorf("destroying the copy stream: %w", e))
	}
	if e := b.drv.hostFree(s.host); e != nil {
		errs = append(errs, fmt.Errorf("freeing the pinned staging memory (cuMemFreeHost): %w", e))
	}
	s.q, s.host, s.stream = nil, nil, stream{}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("closing the staging ring: %w", err)
	}
	return nil
}

// stageSizes returns the staging ring's capacity and piece size: the
// constants on a GPU, and a sixteenth of them on the PTX virtual machine,
// so that the tests reach the ring's full and multi-piece paths with
// uploads the machine copies and adds in milliseconds.
func (b *Backend) stageSizes() (capacity, chunk int64) {
	if b.emulated {
		return stageCapacity / 16, stageChunk / 16
	}
	return stageCapacity, stageChunk
}
