package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The CPU backend's parallel work runs on long-lived worker goroutines
// that poll for the next job for a while after each one, instead of on
// goroutines started per call.
//
// Why: a goroutine started with `go` runs only when another processor's
// thread wakes up to take it, and on the virtual machines this library is
// measured on that takes 75-150 µs (a parked thread's futex wake-up, and
// the hypervisor waking an idle vCPU): as long as a 256×256 product or an
// elementwise op over a batch of activations. The second half of such an
// op started after the first had finished, and the parallel version was
// slower than a serial one. Threads that are still polling when the next
// op arrives start it at once; this is what OpenMP runtimes do (PyTorch's
// threads spin after a parallel region for the same reason).
//
// Items are claimed from a shared counter, so whoever is running (the
// caller included) takes the next item, and a worker that is late finds
// the job done instead of holding it up; the caller waits only for items
// that others have claimed and are running. Polling workers call
// runtime.Gosched between looks, so they never keep another goroutine of
// the program from running.

// workerPoll is how long an idle worker keeps polling for the next job
// before it parks until one is published.
const workerPoll = 200 * time.Microsecond

// poolJob is one call of runItems: items 0..n-1 of fn.
type poolJob struct {
	fn   func(i int)
	n    int64
	next atomic.Int64 // the next item to claim
	done atomic.Int64 // items finished
	// finished is closed by whoever finishes the last item.
	finished chan struct{}
}

// workerPool hands jobs to its workers. A job is never reused, so a
// worker that picks up a job late can only find its counters exhausted.
type workerPool struct {
	job atomic.Pointer[poolJob] // the latest job published
	seq atomic.Uint64           // bumped with every job published

	mu      sync.Mutex
	wake    sync.Cond // broadcast when a job is published and workers are parked
	parked  int
	started int // worker goroutines running
}

var workers = newWorkerPool()

func newWorkerPool() *workerPool {
	p := new(workerPool)
	p.wake.L = &p.mu
	return p
}

// runItems runs fn(0) ... fn(n-1), on the calling goroutine and on up to
// GOMAXPROCS-1 workers, and returns when all have returned. Items may run
// in any order and at once; each runs exactly once.
func (p *workerPool) runItems(n int, fn func(i int)) {
	if n <= 0 {
		return
	}
	if n == 1 {
		fn(0)
		return
	}
	j := &poolJob{fn: fn, n: int64(n), finished: make(chan struct{})}
	p.publish(j, min(n, runtime.GOMAXPROCS(0))-1)
	j.work()
	// Wait for the items other threads are still running: poll first,
	// as the workers do, then park.
	if !pollFor(func() bool { return j.done.Load() >= j.n }) {
		<-j.finished
	}
}

// publish makes j the job the workers look for, starting workers until
// there are at least want of them, and wakes the parked ones.
func (p *workerPool) publish(j *poolJob, want int) {
	p.job.Store(j)
	p.seq.Add(1)
	p.mu.Lock()
	for p.started < want {
		p.started++
		go p.worker()
	}
	if p.parked > 0 {
		p.wake.Broadcast()
	}
	p.mu.Unlock()
}

// work claims and runs items of j until none is left.
func (j *poolJob) work() {
	for {
		i := j.next.Add(1) - 1
		if i >= j.n {
			return
		}
		j.fn(int(i))
		if j.done.Add(1) == j.n {
			close(j.finished)
		}
	}
}

// worker runs every job published after it last looked, polling for
// workerPoll after each before it parks.
func (p *workerPool) worker() {
	var seen uint64
	for {
		seq := p.seq.Load()
		if seq != seen {
			seen = seq
			p.job.Load().work()
			continue
		}
		if p.poll(seen) {
			continue
		}
		p.mu.Lock()
		for p.seq.Load() == seen {
			p.parked++
			p.wake.Wait()
			p.parked--
		}
		p.mu.Unlock()
	}
}

// poll waits up to workerPoll for a job newer than seen and reports
// whether one came.
func (p *workerPool) poll(seen uint64) bool {
	return pollFor(func() bool { return p.seq.Load() != seen })
}

// pollFor calls ready until it reports true or workerPoll has passed, and
// returns its last answer. Between looks it yields the processor, first
// to the program's other goroutines, then to other threads of the
// machine (osYield): when other programs want the CPUs too, a thread
// that only polled would spend whole time slices waiting for a thread
// that is itself waiting for a CPU. Two training runs side by side on two
// cores each trained at 26k samples/s with plain polling, 30k without
// polling and 32k with the yield; alone, 48k with either kind of polling
// and 37k without.
func pollFor(ready func() bool) bool {
	deadline := time.Now().Add(workerPoll)
	for i := 0; ; i++ {
		if ready() {
			return true
		}
		if i%64 == 63 {
			if time.Now().After(deadline) {
				return false
			}
			runtime.Gosched()
			osYield()
		}
	}
}
