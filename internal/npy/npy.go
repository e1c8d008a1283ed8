// Package npy reads and writes NumPy's .npy format (versions 1.0, 2.0 and
// 3.0), so that arrays move between nabla and NumPy.
//
// A .npy file is the magic string "\x93NUMPY", a major and a minor version
// byte, a little-endian header length (2 bytes in version 1.0, 4 in 2.0 and
// 3.0), and a header that is the repr of a Python dict:
//
//	{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//
// padded with spaces and a newline so that the data starts at a multiple of
// 64 bytes. The data follows: numel elements in C order (or Fortran order
// when fortran_order is True), in the byte order the descr names.
//
// The package deals in raw bytes, dtypes and shapes; Array.Data is always
// little-endian and in C order. The descrs nabla supports are '<f4', '<f8',
// '<i8', '|b1' and '|u1'; big-endian ('>f4', ...) data is byte-swapped and
// Fortran-order data is transposed on reading. Other numeric descrs ('<i4',
// '<f2', ...) fail with an error wrapping ErrUnsupportedDType.
//
// Read treats its input as hostile: the header is parsed by a small strict
// parser (no Python evaluation), shapes are checked for overflow and
// against the input's length when it is known, and data of a stream of
// unknown length is read in chunks so that a header claiming 10^12
// elements on a short stream fails with an error instead of allocating.
// Errors about the input wrap ErrInvalid.
//
// ReadHeader and Header.ReadData split Read in two, so that a caller (the
// tensor package) can check the header, allocate the destination it wants
// and have the data read straight into it, with no second copy.
package npy

import (
	"errors"
	"math"
	"math/bits"

	"github.com/nabla-go/nabla/device"
)

// Magic is the string every .npy file starts with.
const Magic = "\x93NUMPY"

// MaxRank is the largest number of dimensions an array may have (NumPy's
// limit).
const MaxRank = 64

// MaxHeaderSize is the largest header, in bytes, that Read accepts. NumPy's
// own default limit is 10000 bytes; a header of the supported dtypes is
// never longer than a few hundred.
const MaxHeaderSize = 1 << 20

// Sentinel errors. Every error returned by this package wraps one of them
// (checkable with errors.Is), except I/O errors from the underlying reader
// or writer, which are wrapped as they are (a stream that ends early gives
// io.ErrUnexpectedEOF together with ErrInvalid).
var (
	// ErrInvalid reports malformed input: bad magic, version, header,
	// shape, or data shorter than the header says.
	ErrInvalid = errors.New("npy: invalid file")
	// ErrUnsupportedDType reports a descr that nabla does not support,
	// such as '<i4' or a structured dtype.
	ErrUnsupportedDType = errors.New("npy: unsupported dtype")
	// ErrInvalidArray reports an Array that Write cannot store: a bad dtype
	// or shape, or data whose length does not match the shape.
	ErrInvalidArray = errors.New("npy: invalid array")
)

// Array is an n-dimensional array: its dtype, its shape (empty for a
// scalar) and its elements in C (row-major) order as little-endian bytes.
// A Bool element is one byte, 0 or 1.
type Array struct {
	DType device.DType
	Shape []int
	Data  []byte
}

// Numel is the number of elements, the product of Shape (1 for a scalar).
func (a Array) Numel() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// descrOf is the descr Write uses for each nabla dtype.
var descrOf = map[device.DType]string{
	device.Float32: "<f4",
	device.Float64: "<f8",
	device.Int64:   "<i8",
	device.Bool:    "|b1",
	device.Uint8:   "|u1",
}

// kindOf maps a descr without its byte-order character to a nabla dtype.
var kindOf = map[string]device.DType{
	"f4": device.Float32,
	"f8": device.Float64,
	"i8": device.Int64,
	"b1": device.Bool,
	"u1": device.Uint8,
}

// numelOf multiplies the dimensions of shape, reporting false on a negative
// dimension or when the product overflows int.
func numelOf(shape []int) (int, bool) {
	n := uint64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > uint64(math.MaxInt) {
			return 0, false
		}
		n = lo
	}
	return int(n), true
}

// byteSize is numel*size, reporting false on overflow of int.
func byteSize(numel, size int) (int, bool) {
	hi, lo := bits.Mul64(uint64(numel), uint64(size))
	if hi != 0 || lo > uint64(math.MaxInt) {
		return 0, false
	}
	return int(lo), true
}
