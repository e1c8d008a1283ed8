package ptxvm

// Streams and events. Work queued on a stream runs in queue order, but
// never while the host queues it: it runs when the host waits for it
// (Stream.Synchronize, Event.Synchronize, Event.Query finds nothing run
// yet and runs nothing). So a host that rewrites a pinned buffer, or
// frees memory, before the device has used it gets wrong data or a
// memcheck fault in every run, not once in a while as on a GPU. Events
// order streams: a wait queued on one stream holds its queue until the
// event's record, queued on another, has run.

import (
	"fmt"
	"unsafe"
)

type opKind uint8

const (
	opLaunch opKind = iota
	opCopyHtoD
	opCopyDtoH
	opCopyDtoD
	opMemset
	opRecord
	opWait
)

type op struct {
	kind   opKind
	launch *launch
	// copies
	dst, src uint64
	host     unsafe.Pointer // HtoD from pinned memory, or DtoH
	staged   []byte         // HtoD from pageable memory, copied when queued
	size     int64
	val      byte
	// events
	ev  *Event
	gen uint64
}

// Stream is a queue of device work.
type Stream struct {
	d         *Device
	q         []op
	queued    uint64 // operations ever queued
	done      uint64 // ... and run
	err       error  // the first failure since the last synchronisation
	destroyed bool
}

// Event marks a point in a stream.
type Event struct {
	d         *Device
	recorded  uint64  // records queued
	completed uint64  // records run
	stream    *Stream // where the last record was queued
	destroyed bool
}

// NewStream creates a stream.
func (d *Device) NewStream() *Stream {
	s := &Stream{d: d}
	d.mu.Lock()
	d.streams = append(d.streams, s)
	d.mu.Unlock()
	return s
}

// Destroy releases the stream; queued work still runs first.
func (s *Stream) Destroy() error {
	if err := s.Synchronize(); err != nil {
		return err
	}
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if s.destroyed {
		return newError(CodeInvalidHandle, "ptxvm: stream destroyed twice")
	}
	s.destroyed = true
	for i, x := range d.streams {
		if x == s {
			d.streams = append(d.streams[:i], d.streams[i+1:]...)
			break
		}
	}
	return nil
}

func (s *Stream) enqueue(o op) error {
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if s.destroyed {
		return errDestroyedStream()
	}
	if o.ev != nil && o.ev.destroyed {
		return errDestroyedEvent()
	}
	if o.kind == opRecord {
		o.ev.recorded++
		o.gen = o.ev.recorded
		o.ev.stream = s
	}
	if o.kind == opWait {
		o.gen = o.ev.recorded
	}
	s.q = append(s.q, o)
	s.queued++
	return nil
}

// Idle reports whether nothing is queued on s (cuStreamQuery); it runs
// nothing.
func (s *Stream) Idle() bool {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	return len(s.q) == 0
}

// NewEvent creates an event.
func (d *Device) NewEvent() *Event { return &Event{d: d} }

// Destroy releases the event.
func (e *Event) Destroy() error {
	e.d.mu.Lock()
	defer e.d.mu.Unlock()
	if e.destroyed {
		return newError(CodeInvalidHandle, "ptxvm: event destroyed twice")
	}
	e.destroyed = true
	return nil
}

// Record queues a record of e on s (cuEventRecord).
func (e *Event) Record(s *Stream) error { return s.enqueue(op{kind: opRecord, ev: e}) }

// WaitEvent makes s wait for e's last record queued so far
// (cuStreamWaitEvent).
func (s *Stream) WaitEvent(e *Event) error { return s.enqueue(op{kind: opWait, ev: e}) }

// errDestroyedStream is the driver's answer to a call on a destroyed
// stream.
func errDestroyedStream() error {
	return newError(CodeInvalidHandle, "ptxvm: use of a destroyed stream")
}

func errDestroyedEvent() error {
	return newError(CodeInvalidHandle, "ptxvm: use of a destroyed event")
}

// Query reports whether the work before e's last record has run
// (cuEventQuery); it does not run any.
func (e *Event) Query() bool {
	e.d.mu.Lock()
	defer e.d.mu.Unlock()
	return e.completed >= e.recorded
}

// Synchronize runs queued work until e's last record has run.
func (e *Event) Synchronize() error {
	e.d.mu.Lock()
	target, on, destroyed := e.recorded, e.stream, e.destroyed
	e.d.mu.Unlock()
	if destroyed {
		return errDestroyedEvent()
	}
	return e.d.drain(func() bool { return e.completed >= target }, on, false)
}

// Synchronize runs the work queued on s so far and returns its first
// failure. Work queued meanwhile by other goroutines is not waited for.
func (s *Stream) Synchronize() error {
	s.d.mu.Lock()
	target, destroyed := s.queued, s.destroyed
	s.d.mu.Unlock()
	if destroyed {
		return errDestroyedStream()
	}
	return s.d.drain(func() bool { return s.done >= target }, s, true)
}

// Synchronize runs all queued work of every stream (cuCtxSynchronize)
// and returns the first failure.
func (d *Device) Synchronize() error {
	var firstErr error
	d.mu.Lock()
	targets := map[*Stream]uint64{}
	for _, s := range d.streams {
		targets[s] = s.queued
	}
	d.mu.Unlock()
	err := d.drain(func() bool {
		for s, t := range targets {
			if s.done < t && !s.destroyed {
				return false
			}
		}
		return true
	}, nil, false)
	if err != nil {
		firstErr = err
	}
	d.mu.Lock()
	for _, s := range d.streams {
		if s.err != nil && firstErr == nil {
			firstErr = s.err
		}
		s.err = nil
	}
	d.mu.Unlock()
	return firstErr
}

// drain runs queued work until done() holds (checked under d.mu), taking
// the next operation of prefer when it can run, else of the stream whose
// event prefer waits for, else of the first stream that can run. With
// report, it returns and clears prefer's first failure.
func (d *Device) drain(done func() bool, prefer *Stream, report bool) error {
	s := prefer
	if !report {
		s = nil
	}
	d.execMu.Lock()
	defer d.execMu.Unlock()
	for {
		d.mu.Lock()
		if done() {
			var err error
			if s != nil {
				err, s.err = s.err, nil
			}
			d.mu.Unlock()
			return err
		}
		// The first stream, in creation order, whose next operation can
		// run.
		runnable := func(x *Stream) bool {
			if x == nil || len(x.q) == 0 {
				return false
			}
			o := x.q[0]
			return o.kind != opWait || o.ev.completed >= o.gen
		}
		var run *Stream
		switch {
		case runnable(prefer):
			run = prefer
		case prefer != nil && len(prefer.q) > 0 && runnable(prefer.q[0].ev.stream):
			run = prefer.q[0].ev.stream
		}
		for _, x := range d.streams {
			if run != nil {
				break
			}
			if len(x.q) == 0 {
				continue
			}
			if o := x.q[0]; o.kind == opWait && o.ev.completed < o.gen {
				continue
			}
			run = x
			break
		}
		if run == nil {
			d.mu.Unlock()
			return newError(CodeLaunchFailed, "ptxvm: deadlock: every stream with queued work waits for an event whose record cannot run")
		}
		o := run.q[0]
		run.q[0] = op{}
		run.q = run.q[1:]
		run.done++
		failed := run.err != nil
		d.mu.Unlock()

		var err error
		switch o.kind {
		case opRecord:
			d.mu.Lock()
			o.ev.completed = max(o.ev.completed, o.gen)
			d.mu.Unlock()
		case opWait:
		default:
			if !failed {
				// After a failure the stream's later work is skipped until
				// the failure is reported, as a GPU's context would be
				// unusable.
				err = d.runOp(o)
			}
		}
		if err != nil {
			d.mu.Lock()
			if run.err == nil {
				run.err = err
			}
			d.mu.Unlock()
		}
	}
}

// runOp performs a copy, memset or launch.
func (d *Device) runOp(o op) error {
	switch o.kind {
	case opLaunch:
		return d.runLaunch(o.launch)
	case opCopyHtoD:
		dst, err := d.mem.bytes(o.dst, uint64(o.size))
		if err != nil {
			return newError(CodeIllegalAddress, "ptxvm: cuMemcpyHtoDAsync to %#x: %v", o.dst, err)
		}
		if o.staged != nil {
			copy(dst, o.staged)
		} else {
			copy(dst, unsafe.Slice((*byte)(o.host), o.size))
		}
	case opCopyDtoH:
		src, err := d.mem.bytes(o.src, uint64(o.size))
		if err != nil {
			return newError(CodeIllegalAddress, "ptxvm: cuMemcpyDtoHAsync from %#x: %v", o.src, err)
		}
		copy(unsafe.Slice((*byte)(o.host), o.size), src)
	case opCopyDtoD:
		src, err := d.mem.bytes(o.src, uint64(o.size))
		if err != nil {
			return newError(CodeIllegalAddress, "ptxvm: cuMemcpyDtoDAsync from %#x: %v", o.src, err)
		}
		dst, err := d.mem.bytes(o.dst, uint64(o.size))
		if err != nil {
			return newError(CodeIllegalAddress, "ptxvm: cuMemcpyDtoDAsync to %#x: %v", o.dst, err)
		}
		copy(dst, src)
	case opMemset:
		dst, err := d.mem.bytes(o.dst, uint64(o.size))
		if err != nil {
			return newError(CodeIllegalAddress, "ptxvm: cuMemsetD8Async at %#x: %v", o.dst, err)
		}
		for i := range dst {
			dst[i] = o.val
		}
	}
	return nil
}

// checkRange validates a copy's device range when it is queued, as the
// driver validates pointers.
func (d *Device) checkRange(what string, addr uint64, size int64) error {
	if size < 0 {
		return newError(CodeInvalidValue, "ptxvm: %s of %d bytes", what, size)
	}
	if size == 0 {
		return nil
	}
	if _, err := d.mem.bytes(addr, uint64(size)); err != nil {
		return newError(CodeInvalidValue, "ptxvm: %s: %v", what, err)
	}
	return nil
}

// CopyHtoD queues a copy from host memory (cuMemcpyHtoDAsync). From
// pageable memory the bytes are read now, as the driver stages them
// before returning; from HostAlloc memory they are read when the copy
// runs.
func (d *Device) CopyHtoD(dst uint64, src unsafe.Pointer, size int64, s *Stream) error {
	if err := d.checkRange("cuMemcpyHtoDAsync", dst, size); err != nil {
		return err
	}
	if size == 0 {
		return nil
	}
	d.count(func(s *Stats) { s.CopiesHtoD++ })
	o := op{kind: opCopyHtoD, dst: dst, size: size}
	if d.pinnedRange(src, size) {
		o.host = src
	} else {
		o.staged = append([]byte(nil), unsafe.Slice((*byte)(src), size)...)
	}
	return s.enqueue(o)
}

// CopyDtoH queues a copy to host memory (cuMemcpyDtoHAsync), written when
// it runs.
func (d *Device) CopyDtoH(dst unsafe.Pointer, src uint64, size int64, s *Stream) error {
	if err := d.checkRange("cuMemcpyDtoHAsync", src, size); err != nil {
		return err
	}
	if size == 0 {
		return nil
	}
	d.count(func(s *Stats) { s.CopiesDtoH++ })
	return s.enqueue(op{kind: opCopyDtoH, host: dst, src: src, size: size})
}

// CopyDtoD queues a device-to-device copy (cuMemcpyDtoDAsync).
func (d *Device) CopyDtoD(dst, src uint64, size int64, s *Stream) error {
	if err := d.checkRange("cuMemcpyDtoDAsync", src, size); err != nil {
		return err
	}
	if err := d.checkRange("cuMemcpyDtoDAsync", dst, size); err != nil {
		return err
	}
	if size == 0 {
		return nil
	}
	return s.enqueue(op{kind: opCopyDtoD, dst: dst, src: src, size: size})
}

// Memset queues a byte fill (cuMemsetD8Async).
func (d *Device) Memset(dst uint64, val byte, size int64, s *Stream) error {
	if err := d.checkRange("cuMemsetD8Async", dst, size); err != nil {
		return err
	}
	if size == 0 {
		return nil
	}
	return s.enqueue(op{kind: opMemset, dst: dst, val: val, size: size})
}

// String describes the device.
func (d *Device) String() string {
	return fmt.Sprintf("%s (compute capability %d.%d, %d SMs, %d MiB)", d.cfg.Name, d.cfg.Major, d.cfg.Minor, d.cfg.SMs, d.cfg.TotalMem>>20)
}
