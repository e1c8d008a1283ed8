package tensor

import (
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
// error, never a panic. Nothing after the array is read, so several arrays
// written one after the other can be read in turn.
//
// When r tells its length (a regular *os.File, or a reader with a Len
// method such as *bytes.Reader), the header is checked against it and the
// data is read straight into the tensor's memory. Otherwise memory is
// taken only as data arrives, and the data is copied into the tensor once
// it is all there: a header that lies about a pipe's contents costs no
// more than the pipe delivered, at the price of a second copy.
func ReadNPY(r io.Reader) (*Tensor, error) {
	size := npy.StreamSize(r)
	h, err := npy.ReadHeader(r, size)
	if err != nil {
		return nil, err
	}
	if size < 0 {
		if r, err = h.Buffer(r); err != nil {
			return nil, err
		}
	}
	return fromNPY(h, r)
}

// LoadNPY reads the .npy file at path into a new CPU tensor (see ReadNPY).
// The header is checked against the file's size first, and the data is
// read straight into the tensor's memory: loading takes the data's size
// in memory, plus a small constant.
func LoadNPY(path string) (*Tensor, error) {
	var t *Tensor
	err := npy.OpenFile(path, func(h npy.Header, r io.Reader) error {
		var err error
		t, err = fromNPY(h, r)
		return err
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// fromNPY reads the data of the array h describes from r into a new CPU
// tensor.
func fromNPY(h npy.Header, r io.Reader) (*Tensor, error) {
	return fromBytesFunc("ReadNPY", h.DType, h.Shape, func(dst []byte) error { return h.ReadData(r, dst) })
}

// npyArray copies t to the host as little-endian C-order bytes.
func (t *Tensor) npyArray(op string) (a npy.Array, err error) {
	err = Catch(func() {
		a = npy.Array{DType: t.DType(), Shape: t.Shape(), Data: t.Bytes()}
	})
	return a, err
}
