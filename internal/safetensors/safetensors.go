// Package safetensors reads and writes the safetensors file format, the
// format nabla uses for state dicts and checkpoints so that weights move
// between nabla and PyTorch in both directions.
//
// A safetensors file is an 8-byte little-endian header length N, N bytes of
// JSON header, and a data section. The header is an object that maps each
// tensor name to {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin,
// end]}, where the offsets are relative to the start of the data section, plus
// an optional "__metadata__" object of string to string. The data section
// holds every tensor's raw little-endian bytes, back to back.
//
// The package deals in raw bytes, dtypes and shapes only; package tensor and
// the layers above it convert to and from tensors.
//
// Reading treats the file as hostile: the header length, the JSON, every
// dtype, shape and offset are checked against the file's length before any
// allocation, tensor data is read only on demand, and a bad file gives an
// error that wraps ErrInvalid, never a panic or an allocation larger than the
// file. The rules are those of the reference implementation: offsets must
// not overlap and must cover the data section without holes.
//
// Writing is deterministic: tensors are laid out sorted by name, offsets are
// contiguous and the header is padded with spaces to a multiple of 8 bytes,
// as the reference implementation does. WriteFileAtomic replaces a file
// atomically (temporary file, fsync, rename), for checkpoints.
package safetensors

import (
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/nabla-go/nabla/device"
)

// MaxHeaderSize is the largest header, in bytes, that Read accepts and Write
// produces (100 MiB, the reference implementation's limit is 100 MB).
const MaxHeaderSize = 100 << 20

// MaxRank is the largest number of dimensions a tensor may have (NumPy's
// limit). It bounds the memory a hostile header can make the reader use.
const MaxRank = 64

// MetadataKey is the reserved header key that holds the string-to-string
// metadata; no tensor may have this name.
const MetadataKey = "__metadata__"

// Sentinel errors. Every error returned by this package wraps one of them
// (checkable with errors.Is), except I/O errors from the underlying reader,
// writer or file system, which are wrapped as they are.
var (
	// ErrInvalid reports a malformed file: bad header length, bad JSON, a
	// bad shape, or offsets that do not fit the data section.
	ErrInvalid = errors.New("safetensors: invalid file")
	// ErrUnsupportedDType reports a dtype that the format defines but nabla
	// does not support (F16, BF16, I32, ...).
	ErrUnsupportedDType = errors.New("safetensors: unsupported dtype")
	// ErrNotFound reports a tensor name that the file does not hold.
	ErrNotFound = errors.New("safetensors: no such tensor")
	// ErrInvalidTensor reports a tensor that Write cannot store: a bad name,
	// dtype or shape, or data whose length does not match the shape.
	ErrInvalidTensor = errors.New("safetensors: invalid tensor")
)

// Tensor is one named tensor: its dtype, its shape and its raw data, the
// elements in C (row-major) order as little-endian bytes. A BOOL element is
// one byte, 0 or 1.
type Tensor struct {
	Name  string
	DType device.DType
	Shape []int
	Data  []byte
}

// TensorInfo describes one tensor of a file without its data.
type TensorInfo struct {
	// Name is the tensor's key in the header.
	Name string
	// Code is the dtype as the file spells it: "F32", "F64", "I64", "BOOL",
	// "U8", or one of the dtypes nabla does not support ("F16", "BF16", ...).
	Code string
	// DType is the nabla dtype. For a dtype nabla does not support it is an
	// invalid DType (DType.Valid reports false); Code says which it is.
	DType device.DType
	// Shape is the tensor's shape; empty for a scalar.
	Shape []int
	// Begin and End are the data offsets, relative to the start of the data
	// section: the tensor's bytes are [Begin, End).
	Begin, End int64
}

// Numel is the number of elements, the product of Shape (1 for a scalar).
func (ti TensorInfo) Numel() int {
	n := 1
	for _, d := range ti.Shape {
		n *= d
	}
	return n
}

// invalidDType marks a TensorInfo whose dtype nabla does not support.
const invalidDType = device.DType(math.MaxUint8)

// dtypeInfo is one entry of the safetensors dtype table.
type dtypeInfo struct {
	code  string
	bits  int          // bits per element
	dtype device.DType // invalidDType when nabla does not support it
}

// dtypeTable lists every dtype the format defines; the first five are the
// ones nabla supports.
var dtypeTable = []dtypeInfo{
	{"F32", 32, device.Float32},
	{"F64", 64, device.Float64},
	{"I64", 64, device.Int64},
	{"BOOL", 8, device.Bool},
	{"U8", 8, device.Uint8},
	{"F16", 16, invalidDType},
	{"BF16", 16, invalidDType},
	{"I8", 8, invalidDType},
	{"I16", 16, invalidDType},
	{"I32", 32, invalidDType},
	{"U16", 16, invalidDType},
	{"U32", 32, invalidDType},
	{"U64", 64, invalidDType},
	{"F8_E4M3", 8, invalidDType},
	{"F8_E5M2", 8, invalidDType},
	{"F8_E8M0", 8, invalidDType},
	{"F6_E2M3", 6, invalidDType},
	{"F6_E3M2", 6, invalidDType},
	{"F4", 4, invalidDType},
	{"C64", 64, invalidDType},
}

// supportedCodes is the list printed in unsupported-dtype errors.
const supportedCodes = "F32, F64, I64, BOOL, U8"

func lookupCode(code string) (dtypeInfo, bool) {
	for _, d := range dtypeTable {
		if d.code == code {
			return d, true
		}
	}
	return dtypeInfo{}, false
}

func codeOf(dt device.DType) (string, bool) {
	for _, d := range dtypeTable {
		if d.dtype == dt && dt != invalidDType {
			return d.code, true
		}
	}
	return "", false
}

// CodeOf returns the safetensors dtype code ("F32", ...) of a nabla dtype.
func CodeOf(dt device.DType) (string, error) {
	code, ok := codeOf(dt)
	if !ok {
		return "", fmt.Errorf("%w: nabla dtype %v has no safetensors code", ErrUnsupportedDType, dt)
	}
	return code, nil
}

// numelOf multiplies the dimensions of shape, reporting false on overflow
// of int (or of int64) and on negative dimensions.
func numelOf(shape []int) (int64, bool) {
	n := uint64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt64 || lo > uint64(math.MaxInt) {
			return 0, false
		}
		n = lo
	}
	return int64(n), true
}

// byteSize is the number of bytes numel elements of bitsPer bits take,
// reporting false on overflow or when they do not fill whole bytes.
func byteSize(numel int64, bitsPer int) (int64, bool) {
	hi, lo := bits.Mul64(uint64(numel), uint64(bitsPer))
	if hi != 0 || lo%8 != 0 || lo/8 > math.MaxInt64 || lo/8 > uint64(math.MaxInt) {
		return 0, false
	}
	return int64(lo / 8), true
}
