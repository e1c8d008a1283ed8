package tensor

import (
	"fmt"
	"io"

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
		a = npy.Array{DType: t.DType(), Shape: t.Shape(), Data: t.Bytes()}
	})
	return a, err
}

// fromNPY builds a CPU tensor from an array that npy.Read validated.
func fromNPY(a npy.Array) (*Tensor, error) {
	t, err := FromBytes(a.DType, a.Shape, a.Data)
	if err != nil {
		return nil, fmt.Errorf("tensor: ReadNPY: %w", err)
	}
	return t, nil
}
