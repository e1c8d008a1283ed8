package cpu

import (
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/backend"
)

// Dropout implements device.Backend.Dropout: each element's Philox draw is
// recomputed from its counter, so the forward and the backward pass make
// the same decisions without a mask in memory.
func (c *host) Dropout(dst, src device.View, p float64, seed, offset uint64) error {
	const name = "dropout"
	if err := backend.CheckDropout("device: cpu: "+name, dst, src, p); err != nil {
		return err
	}
	threshold, scale := backend.DropoutMask(p)
	switch dst.Buf.DType() {
	case device.Float32:
		return runDropout(name, dst, src, dropoutKernel(seed, offset, threshold, float32(scale)))
	case device.Float64:
		return runDropout(name, dst, src, dropoutKernel(seed, offset, threshold, scale))
	}
	return unsupported(name, dst.Buf.DType())
}

// runDropout runs kernel over blocks of dst and src, passing the row-major
// index of each block's first element in dst: the element's Philox
// counter, less the stream's offset.
func runDropout[T float](name string, dst, src device.View, kernel func(d, s []T, k uint64)) error {
	d, err := slice[T](name, dst)
	if err != nil {
		return err
	}
	s, err := slice[T](name, src)
	if err != nil {
		return err
	}
	// The third operand is dst's shape laid out contiguously and is never
	// read: its offset in each row segment forRows hands out is the
	// row-major index of the segment's first element, and since a
	// contiguous layout merges wherever the others do, it costs the
	// iteration nothing.
	sp := newIterSpace(dst.Shape, dst.Layout, src.Layout, device.Contiguous(dst.Shape...))
	ds, ss := sp.innerStride(0), sp.innerStride(1)
	sp.forRows(func() func(offs []int, n int) {
		td, ts := scratch[T](ds), scratch[T](ss)
		return func(offs []int, n int) {
			for j := 0; j < n; j += block {
				m := min(block, n-j)
				dd := loadRow(d, offs[0]+j*ds, m, ds, td)
				kernel(dd, loadRow(s, offs[1]+j*ss, m, ss, ts), uint64(offs[2]+j))
				storeRow(d, offs[0]+j*ds, ds, dd)
			}
		}
	})
	return nil
}

// dropoutKernel returns the block kernel d[i] = s[i]·m, where m is scale
// for a kept element and 0 for a dropped one, and element i of the block
// draws counter offset+k+i. Multiplying by a zero (rather than storing
// one) is what multiplying by the mask tensor did, so a dropped NaN stays
// NaN, as in PyTorch.
func dropoutKernel[T float](seed, offset, threshold uint64, scale T) func(d, s []T, k uint64) {
	return func(d, s []T, k uint64) {
		s = s[:len(d)]
		ctr := offset + k
		i := 0
		for ; i+1 < len(s); i += 2 {
			u0, u1 := backend.PhiloxPair(seed, ctr+uint64(i))
			m0, m1 := scale, scale
			if u0>>11 >= threshold {
				m0 = 0
			}
			if u1>>11 >= threshold {
				m1 = 0
			}
			d[i] = s[i] * m0
			d[i+1] = s[i+1] * m1
		}
		if i < len(s) {
			u0, _ := backend.PhiloxPair(seed, ctr+uint64(i))
			m0 := scale
			if u0>>11 >= threshold {
				m0 = 0
			}
			d[i] = s[i] * m0
		}
	}
}
