package tensor

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/nabla-go/nabla/device"
)

// Bytes returns t's elements in row-major order as little-endian bytes,
// the raw layout of .npy and safetensors files. It works on any device
// (the data is copied to the host).
func (t *Tensor) Bytes() []byte {
	host := t.hostCopy("Bytes")
	checkHostAlloc("Bytes", Uint8, t.layout.Shape, t.Numel()*t.DType().Size())
	out := make([]byte, t.Numel()*t.DType().Size())
	le := binary.LittleEndian
	switch h := host.(type) {
	case []float32:
		for i, v := range h {
			le.PutUint32(out[4*i:], math.Float32bits(v))
		}
	case []float64:
		for i, v := range h {
			le.PutUint64(out[8*i:], math.Float64bits(v))
		}
	case []int64:
		for i, v := range h {
			le.PutUint64(out[8*i:], uint64(v))
		}
	case []bool:
		for i, v := range h {
			if v {
				out[i] = 1
			}
		}
	case []uint8:
		copy(out, h)
	}
	return out
}

// FromBytes builds a CPU tensor of dtype dt and the given shape from
// little-endian bytes in row-major order (nonzero bytes are true for
// Bool). It returns an error, never panics, when the length does not match
// the shape: the bytes usually come from a file.
func FromBytes(dt DType, shape []int, data []byte) (*Tensor, error) {
	if !dt.Valid() {
		return nil, fmt.Errorf("tensor: FromBytes: unknown dtype %v", dt)
	}
	n := 1
	for _, d := range shape {
		if d < 0 || (d > 0 && n > math.MaxInt/d) {
			return nil, fmt.Errorf("tensor: FromBytes: invalid shape %v", shape)
		}
		n *= d
	}
	if want := n * dt.Size(); len(data) != want {
		return nil, fmt.Errorf("tensor: FromBytes: shape %v of %v needs %d bytes, got %d", shape, dt, want, len(data))
	}
	t := empty("FromBytes", backendOf("FromBytes", device.CPU()), dt, shape)
	le := binary.LittleEndian
	switch v := device.HostData(t.buf).(type) {
	case []float32:
		for i := range v {
			v[i] = math.Float32frombits(le.Uint32(data[4*i:]))
		}
	case []float64:
		for i := range v {
			v[i] = math.Float64frombits(le.Uint64(data[8*i:]))
		}
	case []int64:
		for i := range v {
			v[i] = int64(le.Uint64(data[8*i:]))
		}
	case []bool:
		for i := range v {
			v[i] = data[i] != 0
		}
	case []uint8:
		copy(v, data)
	}
	return t, nil
}
