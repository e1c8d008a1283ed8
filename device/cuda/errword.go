package cuda

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"
)

// The asynchronous error word. A kernel that finds a bad input (an
// integer division by zero, an index or a label out of range) cannot
// return an error: the first one claims the device's error word (struct
// ErrWord, kernels/nabla.cuh) with an atomic compare-and-swap and fills
// it in, and the host reports it at its next synchronisation.
//
// The word lives in device memory. Atomics on host-mapped memory are
// atomic only among the device's own accesses and depend on the platform
// (PCIe atomics, the system's coherence); on device memory they are
// plain, fast device atomics. The host reads it back where it
// synchronises anyway (Synchronize, Download): before its one stream
// synchronisation, the call queues a copy of the 24-byte word on the
// compute stream into a slot of a small page-locked buffer. The copy runs
// after every kernel queued before it, and the synchronisation waits for
// it, so the host sees the word as that work left it without another
// round trip; the slot's page-locked memory makes the copy a plain DMA
// that the synchronisation completes.
//
// Clearing: a synchronisation that finds the word set queues a fill with
// zeros behind its readback and reports the error, unless another
// synchronisation queued a clear after its readback was queued. That
// other one saw the same report (the word keeps its first report until
// cleared, and no clear lay between the two readbacks), so each report
// is returned once, and a clear never erases a report that no readback
// has seen yet. Kernels that fail while the word is set are not recorded
// (the first error wins), as before.

// Sizes of the readback buffer: a slot per synchronisation in flight at
// once (a caller waits for a free slot when all are taken).
const (
	errWordSize = int64(unsafe.Sizeof(errWord{}))
	errSlotSize = 32
	errSlots    = 64
)

var _ [errSlotSize - unsafe.Sizeof(errWord{})]struct{} // a slot holds a word

// errReadback is the host side of a device's error word (which is at
// Backend.errDev).
type errReadback struct {
	host unsafe.Pointer // errSlots slots of page-locked memory
	free chan int       // indices of the free slots

	mu     sync.Mutex // orders readbacks and clears as they are queued
	clears uint64     // clears queued so far
}

// errCheck is a queued readback: its slot, and the clears queued before
// it.
type errCheck struct {
	slot int
	gen  uint64
}

// openErrWord allocates the word in device memory, zeroes it and
// allocates the readback slots. Called while the device opens.
func (b *Backend) openErrWord() error {
	r := &b.errs
	var err error
	if b.errDev, err = b.drv.memAlloc(errWordSize); err != nil {
		return fmt.Errorf("allocating the error word (cuMemAlloc): %w", err)
	}
	if err = b.drv.memsetAsync(b.errDev, 0, errWordSize, b.stream); err == nil {
		err = b.drv.syncStream(b.stream)
	}
	if err != nil {
		_ = b.drv.memFree(b.errDev)
		return fmt.Errorf("zeroing the error word (cuMemsetD8Async): %w", err)
	}
	if r.host, err = b.drv.hostAlloc(errSlots * errSlotSize); err != nil {
		_ = b.drv.memFree(b.errDev)
		return fmt.Errorf("allocating the error word's readback buffer (cuMemHostAlloc): %w", err)
	}
	r.free = make(chan int, errSlots)
	for i := range errSlots {
		r.free <- i
	}
	return nil
}

// closeErrWord frees the word and the readback slots. Called by Close
// once nothing is in flight.
func (b *Backend) closeErrWord() error {
	r := &b.errs
	var errs []error
	if err := b.drv.memFree(b.errDev); err != nil {
		errs = append(errs, fmt.Errorf("freeing the error word (cuMemFree): %w", err))
	}
	if err := b.drv.hostFree(r.host); err != nil {
		errs = append(errs, fmt.Errorf("freeing the error word's readback buffer (cuMemFreeHost): %w", err))
	}
	return errors.Join(errs...)
}

func (r *errReadback) slot(i int) *errWord {
	return (*errWord)(unsafe.Add(r.host, i*errSlotSize))
}

// queueErrRead queues the copy of the error word into a free slot on the
// compute stream. The caller synchronises the stream next, then calls
// takeKernelError when that succeeded and dropErrRead when it failed.
func (b *Backend) queueErrRead() (errCheck, error) {
	r := &b.errs
	c := errCheck{slot: <-r.free}
	r.mu.Lock()
	c.gen = r.clears
	err := b.drv.memcpyDtoH(unsafe.Pointer(r.slot(c.slot)), b.errDev, errWordSize, b.stream)
	r.mu.Unlock()
	if err != nil {
		r.free <- c.slot
		return errCheck{}, fmt.Errorf("reading the error word back (cuMemcpyDtoHAsync): %w", err)
	}
	return c, nil
}

// dropErrRead gives c's slot back after a failed synchronisation: the
// readback may not have run, and the stream's failure is the report.
func (b *Backend) dropErrRead(c errCheck) { b.errs.free <- c.slot }

// takeKernelError returns the report c's readback found, once the stream
// synchronisation after it succeeded, and queues the word's clear (see
// the comment at the top of the file for when it reports nothing).
func (b *Backend) takeKernelError(c errCheck) error {
	r := &b.errs
	w := *r.slot(c.slot)
	r.free <- c.slot
	if w.Code == 0 {
		return nil
	}
	r.mu.Lock()
	if r.clears != c.gen {
		r.mu.Unlock()
		return nil
	}
	r.clears++
	err := b.drv.memsetAsync(b.errDev, 0, errWordSize, b.stream)
	r.mu.Unlock()
	report := b.kernelError(w)
	if err != nil {
		return errors.Join(report, b.errf("clearing the error word (cuMemsetD8Async): %w", err))
	}
	return report
}

// kernelError describes a report of the error word.
func (b *Backend) kernelError(w errWord) error {
	switch w.Code {
	case errDivZero:
		return b.errf("integer division by zero (reported by an earlier Div)")
	case errGatherIndex:
		return b.errf("gather: index %d is out of range for dimension %d of size %d (reported asynchronously)", w.Value, w.Dim, w.Limit)
	case errScatterIndex:
		return b.errf("scatter_add: index %d is out of range for dimension %d of size %d (reported asynchronously)", w.Value, w.Dim, w.Limit)
	case errLabel:
		return b.errf("cross_entropy: label %d of row %d is outside [0, %d); labels must be class indices (reported asynchronously)", w.Value, w.Dim, w.Limit)
	}
	return b.errf("kernel error code %d", w.Code)
}
