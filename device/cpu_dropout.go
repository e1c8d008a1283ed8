package device

// Dropout implements Backend.Dropout: each element's Philox draw is
// recomputed from its counter, so the forward and the backward pass make
// the same decisions without a mask in memory.
func (c *host) Dropout(dst, src View, p float64, seed, offset uint64) error {
	const name = "dropout"
	if err := CheckDropout("device: cpu: "+name, dst, src, p); err != nil {
		return err
	}
	threshold, scale := DropoutMask(p)
	switch dst.Buf.DType() {
	case Float32:
		return runDropout(name, dst, src, dropoutKernel(seed, offset, threshold, float32(scale)))
	case Float64:
		return runDropout(name, dst, src, dropoutKernel(seed, offset, threshold, scale))
	}
	return unsupported(name, dst.Buf.DType())
}

// runDropout runs kernel over blocks of dst and src, passing the row-major
// index of each block's first element in dst: the element's Philox
// counter, less the stream's offset.
func runDropout[T float](name string, dst, src View, kernel func(d, s []T, k uint64)) error {
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
	sp := newIterSpace(dst.Shape, dst.Layout, src.Layout, Contiguous(dst.Shape...))
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
			u0, u1 := philoxPair(seed, ctr+uint64(i))
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
			u0, _ := philoxPair(seed, ctr+uint64(i))
			m0 := scale
			if u0>>11 >= threshold {
				m0 = 0
			}
			d[i] = s[i] * m0
		}
	}
}

// philoxPair returns, for the counters ctr and ctr+1 under key seed, the
// first two words of philox's output combined as randomValue combines
// them (w[0]<<32 | w[1]). Two independent streams interleaved give the
// CPU two multiply chains to overlap, and the words dropout never reads
// are not computed in the last round: about twice as fast as two calls
// of philox, with the same bits (TestPhiloxPair).
func philoxPair(seed, ctr uint64) (uint64, uint64) {
	a0, a1, a2, a3 := uint32(ctr), uint32(ctr>>32), uint32(0), uint32(0)
	ctr++
	b0, b1, b2, b3 := uint32(ctr), uint32(ctr>>32), uint32(0), uint32(0)
	k0, k1 := uint32(seed), uint32(seed>>32)
	for range 9 {
		a0, a1, a2, a3 = philoxRound(a0, a1, a2, a3, k0, k1)
		b0, b1, b2, b3 = philoxRound(b0, b1, b2, b3, k0, k1)
		k0 += philoxW0
		k1 += philoxW1
	}
	pa := uint64(philoxM1) * uint64(a2)
	pb := uint64(philoxM1) * uint64(b2)
	return uint64(uint32(pa>>32)^a1^k0)<<32 | pa&0xFFFFFFFF, uint64(uint32(pb>>32)^b1^k0)<<32 | pb&0xFFFFFFFF
}

// philoxRound is one round of philox on the words c0..c3 with the round
// key k0, k1.
func philoxRound(c0, c1, c2, c3, k0, k1 uint32) (uint32, uint32, uint32, uint32) {
	p0 := uint64(philoxM0) * uint64(c0)
	p1 := uint64(philoxM1) * uint64(c2)
	return uint32(p1>>32) ^ c1 ^ k0, uint32(p1), uint32(p0>>32) ^ c3 ^ k1, uint32(p0)
}
