package cuda

// Tests of the host side of staged uploads (pinned_ring.go), without a
// GPU: the ring's placement and wrap-around, release order, event reuse,
// the chunking of large uploads, a randomised run against the invariants
// the CUDA side relies on (no live regions overlap, so a host copy never
// writes bytes a queued DMA may still read), and the upload queue driven
// by a simulated copy engine that reads the pinned buffer late.

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestStagedUploadThreshold(t *testing.T) {
	for _, tc := range []struct {
		size   int64
		staged bool
	}{
		{1, false},
		{8 * 64, false}, // a batch of 64 int64 labels
		{stageDirectMax, false},
		{stageDirectMax + 1, true},
		{64 * 784 * 4, true}, // a 64x784 float32 batch
		{64 << 20, true},
	} {
		require.Equal(t, tc.staged, stagedUpload(tc.size), "size %d", tc.size)
	}
}

func TestStageChunks(t *testing.T) {
	for _, tc := range []struct {
		name        string
		size, chunk int64
		want        [][2]int64 // offset, length
	}{
		{"one byte", 1, 4, [][2]int64{{0, 1}}},
		{"smaller than a chunk", 3, 4, [][2]int64{{0, 3}}},
		{"exactly a chunk", 4, 4, [][2]int64{{0, 4}}},
		{"a chunk and a byte", 5, 4, [][2]int64{{0, 4}, {4, 1}}},
		{"three chunks", 12, 4, [][2]int64{{0, 4}, {4, 4}, {8, 4}}},
		{"64 MiB in 4 MiB chunks", 64 << 20, 4 << 20, func() [][2]int64 {
			var w [][2]int64
			for i := int64(0); i < 16; i++ {
				w = append(w, [2]int64{i << 22, 4 << 20})
			}
			return w
		}()},
		{"nothing", 0, 4, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got [][2]int64
			for off, n := range stageChunks(tc.size, tc.chunk) {
				got = append(got, [2]int64{off, n})
			}
			require.Equal(t, tc.want, got)
		})
	}
	// Stopping early stops the sequence.
	n := 0
	for range stageChunks(100, 1) {
		n++
		if n == 3 {
			break
		}
	}
	require.Equal(t, 3, n)
}

// ringOp is one step of a scripted ring test.
type ringOp struct {
	op   string // "reserve", "submit", "finish"
	n    int64  // reserve: bytes
	id   uint64 // submit, finish: region
	want reserveResult
	off  int64 // reserve: expected data offset when reserved
	ok   bool  // submit, finish: expected result
	used int64 // bytes held afterwards
}

func TestStageRingScripted(t *testing.T) {
	const a = stageAlign
	for _, tc := range []struct {
		name string
		cap  int64
		ops  []ringOp
	}{
		{"sizes round up to the alignment", 4 * a, []ringOp{
			{op: "reserve", n: 1, off: 0, used: a},
			{op: "reserve", n: a + 1, off: a, used: 3 * a},
			{op: "reserve", n: a, off: 3 * a, used: 4 * a},
			{op: "reserve", n: 1, want: reserveFull, used: 4 * a},
		}},
		{"released from the tail in order", 4 * a, []ringOp{
			{op: "reserve", n: 2 * a, off: 0, used: 2 * a},
			{op: "reserve", n: 2 * a, off: 2 * a, used: 4 * a},
			{op: "submit", id: 0, ok: true, used: 4 * a},
			{op: "submit", id: 1, ok: true, used: 4 * a},
			// The younger copy finishes first: its bytes stay held
			// until the older one is done too.
			{op: "finish", id: 1, ok: true, used: 4 * a},
			{op: "reserve", n: a, want: reserveFull, used: 4 * a},
			{op: "finish", id: 0, ok: true, used: 0},
			{op: "reserve", n: 4 * a, off: 0, used: 4 * a},
		}},
		{"wraps to the start when the end is too short", 4 * a, []ringOp{
			{op: "reserve", n: 2 * a, off: 0, used: 2 * a},
			{op: "reserve", n: a, off: 2 * a, used: 3 * a},
			{op: "finish", id: 0, ok: true, used: a},
			// head 3a, tail 2a: [3a, 4a) is too short for 2a, [0, 2a) fits;
			// the region also holds [3a, 4a).
			{op: "reserve", n: 2 * a, off: 0, used: 4 * a},
			{op: "reserve", n: 1, want: reserveFull, used: 4 * a},
			{op: "finish", id: 1, ok: true, used: 3 * a},
			{op: "reserve", n: a, off: 2 * a, used: 4 * a},
			// Releasing the wrapped region frees the skipped end as well.
			{op: "finish", id: 2, ok: true, used: a},
			{op: "reserve", n: 3 * a, want: reserveFull, used: a}, // [3a, 4a) + [0, 2a) are not contiguous
			{op: "reserve", n: 2 * a, off: 0, used: 4 * a},
		}},
		{"fills exactly to the end, then continues at the start", 4 * a, []ringOp{
			{op: "reserve", n: 3 * a, off: 0, used: 3 * a},
			{op: "finish", id: 0, ok: true, used: 0},
			// Empty again: the ring restarts at 0 rather than at 3a.
			{op: "reserve", n: a, off: 0, used: a},
			{op: "reserve", n: 3 * a, off: a, used: 4 * a},
			{op: "finish", id: 1, ok: true, used: 3 * a},
			{op: "reserve", n: a, off: 0, used: 4 * a},
		}},
		{"the region between head and tail", 8 * a, []ringOp{
			{op: "reserve", n: 4 * a, off: 0, used: 4 * a},
			{op: "reserve", n: 4 * a, off: 4 * a, used: 8 * a},
			{op: "finish", id: 0, ok: true, used: 4 * a},
			{op: "reserve", n: a, off: 0, used: 5 * a},
			{op: "reserve", n: 3 * a, off: a, used: 8 * a},
			{op: "reserve", n: 1, want: reserveFull, used: 8 * a},
		}},
		{"a piece larger than the ring", 4 * a, []ringOp{
			{op: "reserve", n: 4*a + 1, want: reserveTooLarge, used: 0},
			{op: "reserve", n: 4 * a, off: 0, used: 4 * a},
		}},
		{"submit and finish check the state", 4 * a, []ringOp{
			{op: "submit", id: 0, ok: false, used: 0}, // never reserved
			{op: "reserve", n: a, off: 0, used: a},
			{op: "submit", id: 0, ok: true, used: a},
			{op: "submit", id: 0, ok: false, used: a}, // already in flight
			{op: "finish", id: 0, ok: true, used: 0},
			{op: "finish", id: 0, ok: false, used: 0}, // released: a second finish is a no-op
			{op: "submit", id: 0, ok: false, used: 0},
			{op: "finish", id: 7, ok: false, used: 0},
		}},
		{"a region abandoned while filling is released", 4 * a, []ringOp{
			{op: "reserve", n: a, off: 0, used: a},
			{op: "finish", id: 0, ok: true, used: 0},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newStageRing(tc.cap)
			for i := 0; i < 4; i++ {
				r.addEvent()
			}
			for k, op := range tc.ops {
				switch op.op {
				case "reserve":
					reg, res := r.reserve(op.n)
					require.Equal(t, op.want, res, "op %d", k)
					if res == reserved {
						require.Equal(t, op.off, reg.off, "op %d", k)
						require.Equal(t, regionFilling, reg.state)
					}
				case "submit":
					require.Equal(t, op.ok, r.submit(op.id), "op %d", k)
				case "finish":
					require.Equal(t, op.ok, r.finish(op.id), "op %d", k)
				default:
					t.Fatalf("unknown op %q", op.op)
				}
				require.Equal(t, op.used, r.used(), "op %d (%s): bytes held", k, op.op)
				checkRing(t, &r)
			}
		})
	}
}

func TestStageRingEvents(t *testing.T) {
	r := newStageRing(16 * stageAlign)
	// No event pair registered: the caller must create one first.
	_, res := r.reserve(1)
	require.Equal(t, reserveNoEvent, res)
	require.Equal(t, 0, r.addEvent())
	first, res := r.reserve(1)
	require.Equal(t, reserved, res)
	require.Equal(t, 0, first.event)
	_, res = r.reserve(1)
	require.Equal(t, reserveNoEvent, res, "the only pair is taken by a live region")
	require.Equal(t, 1, r.addEvent())
	second, res := r.reserve(1)
	require.Equal(t, reserved, res)
	require.Equal(t, 1, second.event)

	// A done region keeps its pair until it is released: here the older
	// region is still in flight, so the younger's pair is not free yet.
	require.True(t, r.submit(first.id))
	require.True(t, r.submit(second.id))
	require.True(t, r.finish(second.id))
	_, res = r.reserve(1)
	require.Equal(t, reserveNoEvent, res)
	require.True(t, r.finish(first.id))
	// Both pairs are free again; no new one is needed.
	third, res := r.reserve(1)
	require.Equal(t, reserved, res)
	fourth, res := r.reserve(1)
	require.Equal(t, reserved, res)
	require.ElementsMatch(t, []int{0, 1}, []int{third.event, fourth.event})
	require.Equal(t, 2, r.events)
}

func TestStageRingOldest(t *testing.T) {
	r := newStageRing(4 * stageAlign)
	r.addEvent()
	r.addEvent()
	_, ok := r.oldest()
	require.False(t, ok)
	a, _ := r.reserve(1)
	b, _ := r.reserve(1)
	old, ok := r.oldest()
	require.True(t, ok)
	require.Equal(t, a.id, old.id)
	require.Equal(t, regionFilling, old.state, "the caller waits for its owner to queue the copy")
	require.True(t, r.submit(a.id))
	old, _ = r.oldest()
	require.Equal(t, regionInFlight, old.state, "the caller waits on its event")
	require.True(t, r.finish(a.id))
	old, _ = r.oldest()
	require.Equal(t, b.id, old.id)
	require.Equal(t, 1, r.inFlight())
}

// checkRing verifies the invariants the stager relies on.
func checkRing(t *testing.T, r *stageRing) {
	t.Helper()
	require.GreaterOrEqual(t, r.head, int64(0))
	require.Less(t, r.head, r.capacity)
	if len(r.live) == 0 {
		require.Zero(t, r.used())
		require.Zero(t, r.head, "an empty ring restarts at 0")
	} else {
		require.NotEqual(t, regionDone, r.live[0].state, "done regions at the tail are released")
	}
	// Live regions follow each other around the ring from the tail to the
	// head, their data lies inside the buffer, and the bytes they hold add
	// up to used: so no two overlap.
	// (Plain comparisons in this loop: it runs for every region after
	// every step of the randomised test.)
	var held int64
	at := int64(-1)
	events := map[int]bool{}
	for i, reg := range r.live {
		if i > 0 && reg.id != r.live[i-1].id+1 {
			t.Fatalf("region ids %d and %d are not consecutive", r.live[i-1].id, reg.id)
		}
		if i > 0 && reg.start != at {
			t.Fatalf("region %d starts at %d, not where the previous one ends (%d)", reg.id, reg.start, at)
		}
		if reg.off%stageAlign != 0 || reg.size%stageAlign != 0 || reg.off+reg.size > r.capacity {
			t.Fatalf("region %d: data [%d, %d) is not aligned or not inside the buffer of %d bytes", reg.id, reg.off, reg.off+reg.size, r.capacity)
		}
		switch {
		case reg.off == reg.start:
			held += reg.size
		case reg.off == 0:
			held += r.capacity - reg.start + reg.size // wrapped: holds [start, capacity) and [0, size)
		default:
			t.Fatalf("region %d: data at %d neither at its start %d nor wrapped to 0", reg.id, reg.off, reg.start)
		}
		at = (reg.off + reg.size) % r.capacity
		if events[reg.event] {
			t.Fatalf("event pair %d used by two live regions", reg.event)
		}
		events[reg.event] = true
	}
	if len(r.live) > 0 {
		require.Equal(t, r.head, at, "the head follows the youngest region")
	}
	require.Equal(t, held, r.used())
	require.LessOrEqual(t, held, r.capacity)
	require.Equal(t, r.events, len(r.freeEvents)+len(r.live), "every pair is free or used by exactly one live region")
}

// TestStageRingRandom drives the ring as several uploaders would, with
// copies that complete in any order, and checks the invariants after
// every step: a reservation never hands out bytes a live region holds.
func TestStageRingRandom(t *testing.T) {
	for _, capSlots := range []int64{1, 2, 7, 64} {
		r := newStageRing(capSlots * stageAlign)
		rng := rand.New(rand.NewPCG(uint64(capSlots), 3))
		reservedN, fullN := 0, 0
		for step := 0; step < 6000; step++ {
			switch k := rng.IntN(10); {
			case k < 5:
				n := 1 + rng.Int64N(capSlots*stageAlign)
				if rng.IntN(2) == 0 {
					n = 1 + rng.Int64N(min(2*stageAlign, r.capacity)) // mostly small pieces
				}
				reg, res := r.reserve(n)
				switch res {
				case reserveNoEvent:
					r.addEvent()
				case reserveFull:
					fullN++
					old, ok := r.oldest()
					require.True(t, ok, "full with nothing live")
					require.NotEqual(t, regionDone, old.state)
				case reserved:
					reservedN++
					require.GreaterOrEqual(t, reg.size, n)
				default:
					t.Fatalf("reserve(%d) on a ring of %d bytes: %v", n, r.capacity, res)
				}
			case k < 8 && len(r.live) > 0:
				reg := r.live[rng.IntN(len(r.live))]
				if reg.state == regionFilling {
					require.True(t, r.submit(reg.id))
				}
			case len(r.live) > 0:
				reg := r.live[rng.IntN(len(r.live))]
				require.Equal(t, reg.state != regionDone, r.finish(reg.id))
			}
			checkRing(t, &r)
		}
		require.Greater(t, reservedN, 200)
		require.Greater(t, fullN, 0, "the run should exercise a full ring")
		// Draining every region empties the ring, and the whole capacity
		// can then be reserved in one piece.
		for len(r.live) > 0 {
			r.finish(r.live[len(r.live)-1].id)
			if len(r.live) > 0 {
				r.finish(r.live[0].id)
			}
		}
		require.Zero(t, r.used())
		reg, res := r.reserve(r.capacity)
		require.Equal(t, reserved, res)
		require.Zero(t, reg.off)
	}
}

// simEngine is a stageEngine that simulates a device's copy engine: copies
// run later, one after another in the order queued, on a goroutine of
// their own, and read the pinned buffer only then. A queue that handed a
// region out again before its copy completed would corrupt the data read
// back (and, under the race detector, race with the copy).
type simEngine struct {
	mu     sync.Mutex
	cond   sync.Cond
	dev    []byte // device memory
	jobs   []simJob
	ticket uint64 // records so far
	doneT  uint64 // the last ticket completed (copies complete in order)
	closed bool
	hold   bool       // the engine is stalled: nothing completes
	rng    *rand.Rand // under mu
	slow   time.Duration

	firsts, lasts int
	// failures to inject: the n-th queueCopy (1-based) fails; newEvents
	// and wait fail while set.
	failQueueAt int
	queued      int
	failEvents  error
	failWait    error
}

// simEvent is the simulated event of one region: the ticket of the copy
// last recorded on it (guarded by simEngine.mu).
type simEvent struct{ recorded uint64 }

type simJob struct {
	ticket uint64
	dst    uintptr
	src    []byte
}

func newSimEngine(t *testing.T, devBytes int, slow time.Duration) *simEngine {
	e := &simEngine{dev: make([]byte, devBytes), rng: rand.New(rand.NewPCG(1, 2)), slow: slow}
	e.cond.L = &e.mu
	done := make(chan struct{})
	go e.run(done)
	t.Cleanup(func() {
		e.mu.Lock()
		e.closed = true
		e.cond.Broadcast()
		e.mu.Unlock()
		<-done
	})
	return e
}

// run is the copy engine.
func (e *simEngine) run(done chan<- struct{}) {
	defer close(done)
	for {
		e.mu.Lock()
		for (len(e.jobs) == 0 || e.hold) && !e.closed {
			e.cond.Wait()
		}
		if len(e.jobs) == 0 {
			e.mu.Unlock()
			return
		}
		j := e.jobs[0]
		e.jobs = e.jobs[1:]
		var pause time.Duration
		if e.rng.IntN(4) == 0 {
			pause = time.Duration(e.rng.Int64N(int64(e.slow) + 1))
		}
		e.mu.Unlock()
		time.Sleep(pause)
		copy(e.dev[j.dst:], j.src) // the DMA reads the pinned region now
		e.mu.Lock()
		e.doneT = j.ticket
		e.cond.Broadcast()
		e.mu.Unlock()
	}
}

func (e *simEngine) newEvents() (*simEvent, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.failEvents != nil {
		return nil, e.failEvents
	}
	return &simEvent{}, nil
}

func (e *simEngine) queueCopy(ev *simEvent, dst uintptr, src []byte, first, last bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.queued++
	if e.queued == e.failQueueAt {
		return errors.New("simulated cuMemcpyHtoDAsync failure")
	}
	e.ticket++
	ev.recorded = e.ticket
	e.jobs = append(e.jobs, simJob{e.ticket, dst, src})
	if first {
		e.firsts++
	}
	if last {
		e.lasts++
	}
	e.cond.Broadcast()
	return nil
}

func (e *simEngine) done(ev *simEvent) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.doneT >= ev.recorded, nil
}

func (e *simEngine) wait(ev *simEvent) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.failWait != nil {
		// The failure also restarts a stalled engine, so that the drain
		// that follows it completes.
		e.hold = false
		e.cond.Broadcast()
		return e.failWait
	}
	for target := ev.recorded; e.doneT < target; {
		e.cond.Wait()
	}
	return nil
}

func (e *simEngine) drain() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for e.doneT < e.ticket {
		e.cond.Wait()
	}
	return nil
}

// read returns a copy of n bytes of device memory at dst, after draining.
func (e *simEngine) read(dst, n int) []byte {
	_ = e.drain()
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]byte(nil), e.dev[dst:dst+n]...)
}

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestStageQueueConcurrent stages uploads of every size, from one byte to
// more than the ring, from several goroutines at once, scribbling on each
// source as soon as upload returns, and checks every byte that arrives.
func TestStageQueueConcurrent(t *testing.T) {
	const (
		ringBytes = 64 * stageAlign // 16 KiB
		chunk     = 16 * stageAlign // 4 KiB
		maxUpload = 40 << 10        // more than the ring
		workers   = 8
		rounds    = 40
	)
	e := newSimEngine(t, workers*rounds*maxUpload, 50*time.Microsecond)
	q := newStageQueue[*simEvent](make([]byte, ringBytes), chunk)
	type sent struct {
		dst  int
		data []byte
	}
	results := make([][]sent, workers)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 5))
			for k := 0; k < rounds; k++ {
				n := 1 + r.IntN(maxUpload)
				if r.IntN(2) == 0 {
					n = 1 + r.IntN(chunk) // mostly single pieces, as loader batches
				}
				src := randomBytes(r, n)
				dst := (w*rounds + k) * maxUpload
				keep := append([]byte(nil), src...)
				if err := q.upload(e, uintptr(dst), src); err != nil {
					errs <- fmt.Errorf("worker %d, upload %d: %w", w, k, err)
					return
				}
				for i := range src {
					src[i] = 0xA5 // the source may be reused at once
				}
				results[w] = append(results[w], sent{dst, keep})
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for w := range results {
		for k, s := range results[w] {
			require.Equal(t, s.data, e.read(s.dst, len(s.data)), "worker %d, upload %d (%d bytes)", w, k, len(s.data))
		}
	}
	st := q.stats()
	require.Equal(t, workers*rounds, e.firsts, "one first piece per upload: the copy stream waits for the compute stream once")
	require.Equal(t, workers*rounds, e.lasts, "one last piece per upload: the compute stream waits once")
	require.Equal(t, int64(e.ticket), st.chunks)
	require.Greater(t, st.chunks, int64(workers*rounds), "large uploads go in several pieces")
	require.Greater(t, st.waits, int64(0), "the ring should have filled up")
	require.LessOrEqual(t, len(q.events), int(ringBytes/stageAlign), "at most one set of events per region in flight")
}

// TestStageQueueLargerThanRing: one upload of five rings' worth waits for
// its own earlier pieces, and arrives whole.
func TestStageQueueLargerThanRing(t *testing.T) {
	const ringBytes, chunk = 8 * stageAlign, 2 * stageAlign
	e := newSimEngine(t, 5*ringBytes+7, 200*time.Microsecond)
	q := newStageQueue[*simEvent](make([]byte, ringBytes), chunk)
	src := randomBytes(rand.New(rand.NewPCG(9, 9)), 5*ringBytes+7)
	require.NoError(t, q.upload(e, 0, src))
	require.Equal(t, src, e.read(0, len(src)))
	st := q.stats()
	require.Equal(t, int64(21), st.chunks) // 20 full pieces and 7 bytes
	require.Equal(t, 1, e.firsts)
	require.Equal(t, 1, e.lasts)
	require.LessOrEqual(t, len(q.events), 4, "four pieces fit the ring at once")
}

func TestStageQueueErrors(t *testing.T) {
	const ringBytes, chunk = 8 * stageAlign, 2 * stageAlign
	for _, tc := range []struct {
		name  string
		size  int
		chunk int64
		setup func(e *simEngine)
		heal  func(e *simEngine)
		want  []string
	}{
		{
			name: "a copy fails to queue", size: 5 * chunk, chunk: chunk,
			setup: func(e *simEngine) { e.failQueueAt = 3 },
			want:  []string{"piece [1024, 1536) of 2560 bytes", "simulated cuMemcpyHtoDAsync failure"},
		},
		{
			name: "events cannot be created", size: chunk, chunk: chunk,
			setup: func(e *simEngine) { e.failEvents = errors.New("simulated cuEventCreate failure") },
			heal:  func(e *simEngine) { e.failEvents = nil },
			want:  []string{"simulated cuEventCreate failure"},
		},
		{
			name: "waiting for ring space fails", size: 3 * ringBytes, chunk: chunk,
			setup: func(e *simEngine) {
				e.hold = true // the ring fills with copies that do not complete
				e.failWait = errors.New("simulated cuEventSynchronize failure")
			},
			heal: func(e *simEngine) { e.failWait = nil },
			want: []string{"waiting for an earlier staged copy", "simulated cuEventSynchronize failure"},
		},
		{
			name: "a piece larger than the ring", size: 2 * ringBytes, chunk: 2 * ringBytes,
			want: []string{"does not fit the staging ring of 2048 bytes"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSimEngine(t, 4*ringBytes, 100*time.Microsecond)
			q := newStageQueue[*simEvent](make([]byte, ringBytes), tc.chunk)
			r := rand.New(rand.NewPCG(1, 1))
			if tc.setup != nil {
				e.mu.Lock()
				tc.setup(e)
				e.mu.Unlock()
			}
			err := q.upload(e, 0, randomBytes(r, tc.size))
			require.Error(t, err)
			for _, w := range tc.want {
				require.ErrorContains(t, err, w)
			}
			// After a failure nothing of the upload is queued or running,
			// and the regions it held are free again.
			e.mu.Lock()
			pending, ticket, doneT := len(e.jobs), e.ticket, e.doneT
			e.mu.Unlock()
			require.Zero(t, pending, "copies still queued")
			require.Equal(t, ticket, doneT, "copies still running")
			require.Zero(t, q.stats().inFlight-countInFlightState(q), "no region left filling")
			if tc.heal != nil {
				e.mu.Lock()
				tc.heal(e)
				e.mu.Unlock()
			}
			// The queue keeps working.
			if tc.chunk <= ringBytes {
				src := randomBytes(r, 3*ringBytes)
				require.NoError(t, q.upload(e, ringBytes/2, src))
				require.Equal(t, src, e.read(ringBytes/2, len(src)))
			}
		})
	}
}

// countInFlightState counts the live regions in the in-flight state
// (released lazily, when space is needed, even after their copies have
// completed); the rest of q.stats().inFlight are regions filling.
func countInFlightState(q *stageQueue[*simEvent]) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, reg := range q.ring.live {
		if reg.state == regionInFlight {
			n++
		}
	}
	return n
}
