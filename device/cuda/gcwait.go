package cuda

import (
	"runtime"
	"runtime/metrics"
	"time"
)

// Waiting for the garbage collector's cleanups. A buffer's block returns
// to the cache in a cleanup (runtime.AddCleanup) that the runtime runs on
// its own goroutines some time after the collection that found the buffer
// unreachable, possibly behind other packages' slow cleanups. The runtime
// counts the cleanups and finalizers it has queued and run
// (runtime/metrics); once the run count reaches what was queued when a
// collection finished, the cleanups of that collection have run, however
// long they took.

// gcQueueMetrics are read by gcQueue, in this order.
var gcQueueMetrics = [...]string{
	"/gc/cleanups/queued:cleanups",
	"/gc/cleanups/executed:cleanups",
	"/gc/finalizers/queued:finalizers",
	"/gc/finalizers/executed:finalizers",
}

// gcQueue returns how many cleanups and finalizers the runtime has queued
// and run so far; ok is false when the runtime does not report them.
func gcQueue() (queued, run uint64, ok bool) {
	var s [len(gcQueueMetrics)]metrics.Sample
	for i, name := range gcQueueMetrics {
		s[i].Name = name
	}
	metrics.Read(s[:])
	for i := range s {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0, 0, false
		}
	}
	return s[0].Value.Uint64() + s[2].Value.Uint64(), s[1].Value.Uint64() + s[3].Value.Uint64(), true
}

// collect runs a garbage collection (runtime.GC returns once sweeping is
// done, when every cleanup and finalizer of the collection is queued),
// then waits until the runtime has run as many cleanups and finalizers as
// were queued by then, or until deadline. It returns how many the
// collection queued: 0 means it found nothing with a cleanup, so another
// collection right away would find no more memory. (Should a runtime not
// report the counts, it waits a few milliseconds and returns 0.)
func collect(deadline time.Time) uint64 {
	before, _, ok := gcQueue()
	runtime.GC()
	if !ok {
		time.Sleep(5 * time.Millisecond)
		return 0
	}
	queued, run, _ := gcQueue()
	// Cleanups take microseconds each when nothing slow is queued: poll
	// often at first, then back off.
	pause := 20 * time.Microsecond
	for run < queued && time.Now().Before(deadline) {
		time.Sleep(pause)
		pause = min(2*pause, time.Millisecond)
		_, run, _ = gcQueue()
	}
	return queued - before
}
