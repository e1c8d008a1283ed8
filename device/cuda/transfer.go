package cuda

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/nabla-go/nabla/device"
)

// hostBytes returns the address and byte size of a host slice of dtype dt
// and length n, or an error when the slice does not match.
func hostBytes(host any, dt device.DType, n int) (unsafe.Pointer, int64, error) {
	var p unsafe.Pointer
	var l int
	var hdt device.DType
	switch h := host.(type) {
	case []float32:
		hdt, l = device.Float32, len(h)
		if l > 0 {
			p = unsafe.Pointer(&h[0])
		}
	case []float64:
		hdt, l = device.Float64, len(h)
		if l > 0 {
			p = unsafe.Pointer(&h[0])
		}
	case []int64:
		hdt, l = device.Int64, len(h)
		if l > 0 {
			p = unsafe.Pointer(&h[0])
		}
	case []bool: // one byte each, 0 or 1: the device's Bool layout
		hdt, l = device.Bool, len(h)
		if l > 0 {
			p = unsafe.Pointer(&h[0])
		}
	case []uint8:
		hdt, l = device.Uint8, len(h)
		if l > 0 {
			p = unsafe.Pointer(&h[0])
		}
	default:
		return nil, 0, fmt.Errorf("host slice of type %T is not one of []float32, []float64, []int64, []bool, []uint8", host)
	}
	if hdt != dt || l != n {
		return nil, 0, fmt.Errorf("host slice does not match the buffer's dtype and length (%v[%d] vs %T of length %d)", dt, n, host, l)
	}
	return p, int64(n) * int64(dt.Size()), nil
}

// Upload copies a host slice into dst. The copy is ordered after the
// work queued before it and before the work queued after it; the host
// slice may be reused as soon as Upload returns.
//
// Uploads of more than 64 KiB are staged (pinned.go): the data is copied
// on the calling goroutine into the device's pinned staging ring and
// transferred by DMA on a separate copy stream, so Upload returns without
// waiting for queued kernels, and the data loader's background goroutines
// really prepare the next batch while the current step runs. There is no
// upper limit: a large upload is cut into 4 MiB pieces, whose host copies
// overlap the DMA of the pieces before, and waits only for ring space.
// Smaller uploads, and all uploads if the pinned memory cannot be had
// (StagingStats says why), are copied straight from Go memory on the
// compute stream: the driver buffers small sources itself, and staging
// them would cost two cross-stream waits for a copy of a few bytes.
func (b *Backend) Upload(dst device.Buffer, src any) error {
	if err := b.enter("upload"); err != nil {
		return err
	}
	defer b.leave()
	x, ok := dst.(*buffer)
	if !ok || x.be != b {
		return b.errf("upload: buffer %T is not memory of this device", dst)
	}
	p, size, err := hostBytes(src, x.dt, x.n)
	if err != nil {
		return b.errf("upload: %w", err)
	}
	if size == 0 {
		return nil
	}
	if stagedUpload(size) && !b.stage.forceDirect.Load() {
		handled, err := b.stage.upload(b, devicePtr(x.ptr()), p, size)
		// x stays alive until the compute stream waits for the copy:
		// only then may its block return to the allocator's cache (see
		// pinned.go for why a reused block is never written late).
		runtime.KeepAlive(src)
		runtime.KeepAlive(x)
		if err != nil {
			return b.errf("upload of %s through the pinned staging ring: %w", fmtBytes(size), err)
		}
		if handled {
			return nil
		}
	}
	return b.uploadDirect(x, p, size, src)
}

// uploadDirect queues the copy of size bytes from Go memory at p into x on
// the compute stream. The driver stages pageable memory itself before
// returning, so src may be reused afterwards; for large copies it may
// wait for the stream's queued work first.
func (b *Backend) uploadDirect(x *buffer, p unsafe.Pointer, size int64, src any) error {
	b.stage.direct.Add(1)
	err := b.drv.memcpyHtoD(devicePtr(x.ptr()), p, size, b.stream)
	runtime.KeepAlive(src)
	runtime.KeepAlive(x)
	if err != nil {
		return b.errf("upload of %s: cuMemcpyHtoDAsync: %w", fmtBytes(size), err)
	}
	return nil
}

// Download waits for the work queued before it and copies src into a
// host slice of matching type and length. It reports the first error a
// kernel recorded since the last synchronisation. It runs on the compute
// stream, which waits for every staged upload queued before it, so it
// sees their data without waiting for the copy stream itself.
func (b *Backend) Download(dst any, src device.Buffer) error {
	if err := b.enter("download"); err != nil {
		return err
	}
	defer b.leave()
	x, ok := src.(*buffer)
	if !ok || x.be != b {
		return b.errf("download: buffer %T is not memory of this device", src)
	}
	p, size, err := hostBytes(dst, x.dt, x.n)
	if err != nil {
		return b.errf("download: %w", err)
	}
	if size > 0 {
		if e := b.drv.memcpyDtoH(p, devicePtr(x.ptr()), size, b.stream); e != nil {
			err = fmt.Errorf("cuMemcpyDtoHAsync: %w", e)
		}
	}
	// The error word's readback, behind the copy: one synchronisation
	// waits for both (and for the copy even when the readback could not
	// be queued: it writes dst).
	var c errCheck
	if err == nil {
		c, err = b.queueErrRead()
		read := err == nil
		if e := b.drv.syncStream(b.stream); e != nil {
			err = errors.Join(err, fmt.Errorf("cuStreamSynchronize (a queued kernel or copy failed): %w", e))
		}
		if err != nil && read {
			b.dropErrRead(c)
		}
	}
	runtime.KeepAlive(dst)
	runtime.KeepAlive(x)
	if err != nil {
		return b.errf("download of %s: %w", fmtBytes(size), err)
	}
	return b.takeKernelError(c)
}
