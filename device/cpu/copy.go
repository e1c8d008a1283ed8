package cpu

import (
	"fmt"

	"github.com/nabla-go/nabla/device"
)

func (c *host) Fill(dst device.View, v float64) error {
	switch dst.Buf.DType() {
	case device.Float32:
		return runFill(dst, float32(v))
	case device.Float64:
		return runFill(dst, v)
	case device.Int64:
		return runFill(dst, int64(v))
	case device.Bool:
		return runFill(dst, v != 0)
	case device.Uint8:
		return runFill(dst, uint8(v))
	}
	return unsupported("fill", dst.Buf.DType())
}

func runFill[T any](dst device.View, v T) error {
	d, err := slice[T]("fill", dst)
	if err != nil {
		return err
	}
	map1(d, dst.Layout, d, dst.Layout, func(d, _ []T) {
		for i := range d {
			d[i] = v
		}
	})
	return nil
}

func (c *host) Copy(dst, src device.View) error {
	sd, dd := src.Buf.DType(), dst.Buf.DType()
	if sd == dd {
		switch dd {
		case device.Float32:
			return runCopy[float32](dst, src)
		case device.Float64:
			return runCopy[float64](dst, src)
		case device.Int64:
			return runCopy[int64](dst, src)
		case device.Bool:
			return runCopy[bool](dst, src)
		case device.Uint8:
			return runCopy[uint8](dst, src)
		}
		return unsupported("copy", dd)
	}
	return castCopy(dst, src)
}

func runCopy[T any](dst, src device.View) error {
	return runUnary("copy", dst, src, func(d, s []T) { copy(d, s) })
}

// castCopy converts between dtypes through float64, the one type that
// holds every value of the others exactly except int64 beyond 2^53.
func castCopy(dst, src device.View) error {
	cs, ok1 := src.Buf.(*cpuBuffer)
	cd, ok2 := dst.Buf.(*cpuBuffer)
	if !ok1 || !ok2 {
		return fmt.Errorf("device: cpu: copy: buffers are not CPU memory")
	}
	if src.Numel() > 0 && (src.Offset+src.Span() > cs.Len() || dst.Offset+dst.Span() > cd.Len()) {
		return fmt.Errorf("device: cpu: copy: view overruns its buffer")
	}
	toF64 := func(s any, off, n, stride int, out []float64) {
		switch s := s.(type) {
		case []float32:
			for i := range out[:n] {
				out[i] = float64(s[off+i*stride])
			}
		case []float64:
			for i := range out[:n] {
				out[i] = s[off+i*stride]
			}
		case []int64:
			for i := range out[:n] {
				out[i] = float64(s[off+i*stride])
			}
		case []uint8:
			for i := range out[:n] {
				out[i] = float64(s[off+i*stride])
			}
		case []bool:
			for i := range out[:n] {
				out[i] = 0
				if s[off+i*stride] {
					out[i] = 1
				}
			}
		}
	}
	fromF64 := func(d any, off, stride int, in []float64) {
		switch d := d.(type) {
		case []float32:
			for i, v := range in {
				d[off+i*stride] = float32(v)
			}
		case []float64:
			for i, v := range in {
				d[off+i*stride] = v
			}
		case []int64:
			for i, v := range in {
				d[off+i*stride] = int64(v)
			}
		case []uint8:
			for i, v := range in {
				d[off+i*stride] = uint8(int64(v))
			}
		case []bool:
			for i, v := range in {
				d[off+i*stride] = v != 0
			}
		}
	}
	sp := newIterSpace(dst.Shape, dst.Layout, src.Layout)
	ds, ss := sp.innerStride(0), sp.innerStride(1)
	sp.forRows(func() func(offs []int, n int) {
		tmp := make([]float64, block)
		return func(offs []int, n int) {
			for j := 0; j < n; j += block {
				m := min(block, n-j)
				toF64(cs.data, offs[1]+j*ss, m, ss, tmp)
				fromF64(cd.data, offs[0]+j*ds, ds, tmp[:m])
			}
		}
	})
	return nil
}
