package tensor

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/device/cpu"
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
	// Compare the length before allocating: a shape that data cannot
	// fill must not cost its size in memory.
	if n, err := device.CheckedNumel(shape); err == nil && dt.Valid() {
		if want, err := device.ByteSize(dt, n); err == nil && want != len(data) {
			return nil, fmt.Errorf("tensor: FromBytes: shape %v of %v needs %d bytes, got %d", shape, dt, want, len(data))
		}
	}
	return fromBytesFunc("FromBytes", dt, shape, func(dst []byte) error {
		copy(dst, data)
		return nil
	})
}

// FromBytesFunc builds a CPU tensor of dtype dt and the given shape whose
// elements fill writes straight into the tensor's memory: fill gets that
// memory as numel*dt.Size() bytes and must write the elements there in
// row-major order as little-endian bytes, as .npy and safetensors files
// store them (a Bool is one byte, nonzero for true). File readers use it
// to load a tensor without a second copy of its data.
//
// The memory is allocated under the CPU memory limit first (see
// cpu.MemoryLimit). It returns an error, never panics, for an
// invalid dtype or shape, a tensor larger than the limit, or an error of
// fill; the tensor is then dropped.
func FromBytesFunc(dt DType, shape []int, fill func(dst []byte) error) (*Tensor, error) {
	return fromBytesFunc("FromBytesFunc", dt, shape, fill)
}

// FromReader builds a CPU tensor of dtype dt and the given shape from
// exactly numel*dt.Size() bytes read from r, little-endian in row-major
// order, straight into the tensor's memory (see FromBytesFunc). A reader
// that ends early gives an error wrapping io.ErrUnexpectedEOF.
func FromReader(dt DType, shape []int, r io.Reader) (*Tensor, error) {
	return fromBytesFunc("FromReader", dt, shape, func(dst []byte) error {
		if _, err := io.ReadFull(r, dst); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		return nil
	})
}

// littleEndianHost reports whether the machine stores numbers
// little-endian, as the file formats do.
var littleEndianHost = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

func fromBytesFunc(op string, dt DType, shape []int, fill func(dst []byte) error) (*Tensor, error) {
	if !dt.Valid() {
		return nil, fmt.Errorf("tensor: %s: unknown dtype %v", op, dt)
	}
	var t *Tensor
	if err := Catch(func() { t = empty(op, backendOf(op, device.CPU()), dt, shape) }); err != nil {
		return nil, err
	}
	dst := cpu.Bytes(t.buf)
	if err := fill(dst); err != nil {
		return nil, fmt.Errorf("tensor: %s: %w", op, err)
	}
	switch size := dt.Size(); {
	case dt == Bool:
		// A Go bool must be 0 or 1; files may hold any nonzero byte.
		for i, b := range dst {
			if b > 1 {
				dst[i] = 1
			}
		}
	case size > 1 && !littleEndianHost:
		swapBytes(dst, size)
	}
	return t, nil
}

// swapBytes reverses the bytes of every size-byte element of data.
func swapBytes(data []byte, size int) {
	for i := 0; i+size <= len(data); i += size {
		e := data[i : i+size]
		for a, b := 0, size-1; a < b; a, b = a+1, b-1 {
			e[a], e[b] = e[b], e[a]
		}
	}
}
