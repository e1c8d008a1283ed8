package tensor

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/nabla-go/nabla/internal/npy"
)

// WriteNPY writes t to w in NumPy's .npy format (version 1.0, C order,
// little-endian), which numpy.load reads. The dtype maps to '<f4', '<f8',
// '<i8', '|b1' or '|u1'. t may live on any device and have any layout: its
// elements are copied to the host in row-major order first.
func (t *Tensor) WriteNPY(w io.Writer) error {
	a, err := t.npyArray("WriteNPY")
	if err != nil {
		return err
	}
	return npy.Write(w, a)
}

// SaveNPY writes t to the file at path in NumPy's .npy format (see
// WriteNPY), creating or truncating it.
func (t *Tensor) SaveNPY(path string) error {
	a, err := t.npyArray("SaveNPY")
	if err != nil {
		return err
	}
	return npy.WriteFile(path, a)
}

// ReadNPY reads one .npy array from r into a new CPU tensor. NumPy's
// float32, float64, int64, bool and uint8 arrays are supported, in either
// byte order and in C or Fortran order; other dtypes give an error. The
// input is treated as hostile: a malformed or truncated file gives an
// error, never a panic or an allocation larger than the data. Nothing
// after the array is read, so several arrays written one after the other
// can be read in turn.
func ReadNPY(r io.Reader) (*Tensor, error) {
	a, err := npy.Read(r)
	if err != nil {
		return nil, err
	}
	return fromNPY(a)
}

// LoadNPY reads the .npy file at path into a new CPU tensor (see ReadNPY).
func LoadNPY(path string) (*Tensor, error) {
	a, err := npy.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return fromNPY(a)
}

// npyArray copies t to the host as little-endian C-order bytes.
func (t *Tensor) npyArray(op string) (a npy.Array, err error) {
	err = Catch(func() {
		host := t.hostCopy(op)
		a = npy.Array{DType: t.DType(), Shape: t.Shape(), Data: make([]byte, t.Numel()*t.DType().Size())}
		le := binary.LittleEndian
		switch h := host.(type) {
		case []float32:
			for i, v := range h {
				le.PutUint32(a.Data[4*i:], math.Float32bits(v))
			}
		case []float64:
			for i, v := range h {
				le.PutUint64(a.Data[8*i:], math.Float64bits(v))
			}
		case []int64:
			for i, v := range h {
				le.PutUint64(a.Data[8*i:], uint64(v))
			}
		case []bool:
			for i, v := range h {
				if v {
					a.Data[i] = 1
				}
			}
		case []uint8:
			copy(a.Data, h)
		default:
			fail(op, ErrDType, "cannot write %v tensors as .npy", t.DType())
		}
	})
	return a, err
}

// fromNPY builds a CPU tensor from an array that npy.Read validated.
func fromNPY(a npy.Array) (t *Tensor, err error) {
	n := a.Numel()
	if want := n * a.DType.Size(); len(a.Data) != want {
		return nil, fmt.Errorf("tensor: ReadNPY: shape %v of %v needs %d bytes, got %d", a.Shape, a.DType, want, len(a.Data))
	}
	err = Catch(func() {
		le := binary.LittleEndian
		var flat *Tensor
		switch a.DType {
		case Float32:
			v := make([]float32, n)
			for i := range v {
				v[i] = math.Float32frombits(le.Uint32(a.Data[4*i:]))
			}
			flat = FromSlice(v)
		case Float64:
			v := make([]float64, n)
			for i := range v {
				v[i] = math.Float64frombits(le.Uint64(a.Data[8*i:]))
			}
			flat = FromSlice(v)
		case Int64:
			v := make([]int64, n)
			for i := range v {
				v[i] = int64(le.Uint64(a.Data[8*i:]))
			}
			flat = FromSlice(v)
		case Bool:
			v := make([]bool, n)
			for i := range v {
				v[i] = a.Data[i] != 0
			}
			flat = FromSlice(v)
		case Uint8:
			flat = FromSlice(append([]uint8(nil), a.Data...))
		default:
			fail("ReadNPY", ErrDType, "unsupported dtype %v", a.DType)
		}
		t = flat.Reshape(a.Shape...)
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}
