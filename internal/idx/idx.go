// Package idx reads and writes the IDX format of the MNIST family of data
// sets (MNIST, Fashion-MNIST, KMNIST, EMNIST).
//
// An IDX file is a 4-byte magic number 0x00 0x00 <type> <ndims>, ndims
// big-endian uint32 dimensions, and the elements in C (row-major) order,
// big-endian. The type codes are 0x08 unsigned byte, 0x09 signed byte, 0x0B
// short (int16), 0x0C int (int32), 0x0D float (float32) and 0x0E double
// (float64). The data sets ship gzip-compressed; ReadFile decompresses
// transparently.
//
// File.Data holds the elements exactly as the file stores them (raw,
// big-endian); for the usual unsigned-byte images and labels that is the
// pixel or label values themselves, and Uint8s returns them without a copy.
// Int64s, Float32s and Float64s convert any type to Go values for the
// layers above, which build tensors from them.
//
// Read treats its input as hostile: the number of dimensions must be 1 to
// MaxDims, every dimension nonzero, their product is computed with overflow
// checks and capped at MaxDataSize bytes and compared with the input's
// length when it is known, data of unknown length is read in chunks so
// that a header claiming more data than the input holds fails without a
// large allocation, and the data must be exactly as long as the
// dimensions say: a truncated file or trailing bytes are errors wrapping
// ErrInvalid.
//
// Open and NewReader split reading in two: the header first, so that the
// caller can check it and allocate the data's final home (the data package
// reads images straight into a tensor), then Reader.ReadData.
package idx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// Type is an IDX element type code, the third byte of the magic number.
type Type byte

// The IDX element types.
const (
	Ubyte  Type = 0x08 // unsigned byte
	Sbyte  Type = 0x09 // signed byte
	Short  Type = 0x0B // int16, big-endian
	Int    Type = 0x0C // int32, big-endian
	Float  Type = 0x0D // float32, big-endian
	Double Type = 0x0E // float64, big-endian
)

// Size is the number of bytes one element occupies, 0 for an unknown type.
func (t Type) Size() int {
	switch t {
	case Ubyte, Sbyte:
		return 1
	case Short:
		return 2
	case Int, Float:
		return 4
	case Double:
		return 8
	}
	return 0
}

// Valid reports whether t is one of the IDX type codes.
func (t Type) Valid() bool { return t.Size() != 0 }

// String returns the IDX name of the type ("ubyte", "float", ...).
func (t Type) String() string {
	switch t {
	case Ubyte:
		return "ubyte"
	case Sbyte:
		return "sbyte"
	case Short:
		return "short"
	case Int:
		return "int"
	case Float:
		return "float"
	case Double:
		return "double"
	}
	return fmt.Sprintf("type(0x%02x)", byte(t))
}

// MaxDims is the largest number of dimensions Read accepts.
const MaxDims = 8

// MaxDataSize is the largest data section, in bytes, Read accepts (16
// GiB; the largest data set in the family, EMNIST ByClass, is 550 MB).
const MaxDataSize = 1 << 34

// Sentinel errors. Every error returned by this package wraps one of them
// (checkable with errors.Is), except I/O and decompression errors, which
// are wrapped as they are.
var (
	// ErrInvalid reports a malformed file: bad magic, type, dimensions,
	// truncated data or trailing bytes.
	ErrInvalid = errors.New("idx: invalid file")
	// ErrType reports a conversion the element type does not allow, such
	// as Uint8s on a float file.
	ErrType = errors.New("idx: wrong element type")
	// ErrInvalidFile reports a File that Write cannot store.
	ErrInvalidFile = errors.New("idx: invalid contents")
)

// File is the contents of an IDX file.
type File struct {
	// Type is the element type.
	Type Type
	// Dims are the dimensions, outermost first: [60000 28 28] for the
	// MNIST training images, [60000] for their labels.
	Dims []int
	// Data holds the elements in C order, exactly as stored: big-endian
	// for the multi-byte types.
	Data []byte
}

// Numel is the number of elements, the product of Dims.
func (f *File) Numel() int {
	n := 1
	for _, d := range f.Dims {
		n *= d
	}
	return n
}

// Uint8s returns the elements of an unsigned-byte file. The slice is
// f.Data itself, not a copy. Other types give an error wrapping ErrType.
func (f *File) Uint8s() ([]uint8, error) {
	if f.Type != Ubyte {
		return nil, fmt.Errorf("%w: Uint8s needs ubyte data, the file holds %v", ErrType, f.Type)
	}
	return f.Data, nil
}

// Int64s converts the elements of an integer file (ubyte, sbyte, short,
// int) to int64. Float and double files give an error wrapping ErrType.
func (f *File) Int64s() ([]int64, error) {
	n := f.elems()
	out := make([]int64, n)
	switch f.Type {
	case Ubyte:
		for i := range out {
			out[i] = int64(f.Data[i])
		}
	case Sbyte:
		for i := range out {
			out[i] = int64(int8(f.Data[i]))
		}
	case Short:
		for i := range out {
			out[i] = int64(int16(binary.BigEndian.Uint16(f.Data[2*i:])))
		}
	case Int:
		for i := range out {
			out[i] = int64(int32(binary.BigEndian.Uint32(f.Data[4*i:])))
		}
	default:
		return nil, fmt.Errorf("%w: Int64s needs integer data, the file holds %v", ErrType, f.Type)
	}
	return out, nil
}

// Float64s converts the elements of any type to float64, exactly.
func (f *File) Float64s() []float64 {
	out := make([]float64, f.elems())
	switch f.Type {
	case Float:
		for i := range out {
			out[i] = float64(math.Float32frombits(binary.BigEndian.Uint32(f.Data[4*i:])))
		}
	case Double:
		for i := range out {
			out[i] = math.Float64frombits(binary.BigEndian.Uint64(f.Data[8*i:]))
		}
	default:
		ints, _ := f.Int64s()
		for i, v := range ints {
			out[i] = float64(v)
		}
	}
	return out
}

// Float32s converts the elements of any type to float32 (rounding int and
// double values that float32 cannot hold exactly).
func (f *File) Float32s() []float32 {
	out := make([]float32, f.elems())
	switch f.Type {
	case Ubyte:
		for i := range out {
			out[i] = float32(f.Data[i])
		}
	case Float:
		for i := range out {
			out[i] = math.Float32frombits(binary.BigEndian.Uint32(f.Data[4*i:]))
		}
	default:
		for i, v := range f.Float64s() {
			out[i] = float32(v)
		}
	}
	return out
}

// elems is the number of whole elements Data holds; it equals Numel for a
// File returned by Read, and keeps the conversions in bounds for a File
// built by hand.
func (f *File) elems() int {
	if s := f.Type.Size(); s > 0 {
		return len(f.Data) / s
	}
	return 0
}

// dataSize checks dims and returns the number of data bytes they need.
func dataSize(t Type, dims []int) (int64, error) {
	if len(dims) < 1 || len(dims) > MaxDims {
		return 0, fmt.Errorf("%d dimensions, want 1 to %d", len(dims), MaxDims)
	}
	n := uint64(t.Size())
	for _, d := range dims {
		if d <= 0 || uint64(d) > math.MaxUint32 {
			return 0, fmt.Errorf("dimensions %v: each must be 1 to %d", dims, uint32(math.MaxUint32))
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > MaxDataSize {
			return 0, fmt.Errorf("dimensions %v of %v need more than the %d-byte limit", dims, t, int64(MaxDataSize))
		}
		n = lo
	}
	if n > math.MaxInt {
		return 0, fmt.Errorf("dimensions %v of %v are too large for this platform", dims, t)
	}
	return int64(n), nil
}
