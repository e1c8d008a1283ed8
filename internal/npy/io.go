package npy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/nabla-go/nabla/device"
)

// chunkSize bounds how much Read allocates ahead of the data it has
// actually received.
const chunkSize = 1 << 20

// Write writes a to w as a .npy file: version 1.0 (2.0 only if the header
// could not fit, which the supported dtypes never need), C order, the
// descrs '<f4', '<f8', '<i8', '|b1' or '|u1', and the header padded so that
// the data starts at a multiple of 64 bytes.
//
// a is validated first and nothing is written when it is bad: its dtype
// must be a nabla dtype, its shape non-negative with at most MaxRank
// dimensions, and len(Data) must equal numel*DType.Size(). Such errors
// wrap ErrInvalidArray.
func Write(w io.Writer, a Array) error {
	descr, ok := descrOf[a.DType]
	if !ok {
		return fmt.Errorf("%w: dtype %v is not a nabla dtype", ErrInvalidArray, a.DType)
	}
	if len(a.Shape) > MaxRank {
		return fmt.Errorf("%w: %d dimensions, at most %d allowed", ErrInvalidArray, len(a.Shape), MaxRank)
	}
	numel, ok := numelOf(a.Shape)
	if !ok {
		return fmt.Errorf("%w: shape %v has a negative dimension or too many elements", ErrInvalidArray, a.Shape)
	}
	nbytes, ok := byteSize(numel, a.DType.Size())
	if !ok {
		return fmt.Errorf("%w: shape %v is too large", ErrInvalidArray, a.Shape)
	}
	if len(a.Data) != nbytes {
		return fmt.Errorf("%w: shape %v of %v needs %d bytes, data has %d", ErrInvalidArray, a.Shape, a.DType, nbytes, len(a.Data))
	}

	var dict bytes.Buffer
	dict.WriteString("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (")
	for i, d := range a.Shape {
		if i > 0 {
			dict.WriteString(", ")
		}
		dict.WriteString(strconv.Itoa(d))
	}
	if len(a.Shape) == 1 {
		dict.WriteByte(',')
	}
	dict.WriteString("), }")

	// As NumPy's _wrap_header: pad with spaces, then a newline, so that
	// magic + version + length field + header is a multiple of 64.
	major, lenField := byte(1), 2
	if len(Magic)+2+2+dict.Len()+1 > math.MaxUint16 {
		major, lenField = 2, 4
	}
	pre := len(Magic) + 2 + lenField
	pad := 64 - (pre+dict.Len()+1)%64
	if pad == 64 {
		pad = 0
	}
	hlen := dict.Len() + pad + 1

	out := make([]byte, 0, pre+hlen)
	out = append(out, Magic...)
	out = append(out, major, 0)
	if lenField == 2 {
		out = binary.LittleEndian.AppendUint16(out, uint16(hlen))
	} else {
		out = binary.LittleEndian.AppendUint32(out, uint32(hlen))
	}
	out = append(out, dict.Bytes()...)
	out = append(out, bytes.Repeat([]byte{' '}, pad)...)
	out = append(out, '\n')
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("npy: write: %w", err)
	}
	if len(a.Data) > 0 {
		if _, err := w.Write(a.Data); err != nil {
			return fmt.Errorf("npy: write: %w", err)
		}
	}
	return nil
}

// WriteFile writes a to the file at path (see Write), creating or
// truncating it.
func WriteFile(path string, a Array) error {
	var buf bytes.Buffer
	if err := Write(&buf, a); err != nil { // validate before creating the file
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// Read reads one .npy array from r. It reads exactly the array's bytes and
// no more, so several arrays written one after the other to a stream can be
// read back in turn; anything after the array is left unread.
//
// The result is always little-endian and in C order: big-endian data is
// byte-swapped and Fortran-order data transposed. Bool elements are
// normalised to 0 or 1. Errors about the input wrap ErrInvalid (or
// ErrUnsupportedDType for a descr nabla does not support); data shorter
// than the header says gives an error naming the expected and received
// byte counts, wrapping io.ErrUnexpectedEOF too.
func Read(r io.Reader) (Array, error) {
	return read(r, -1)
}

// ReadFile reads the .npy file at path (see Read). Data after the array is
// ignored, as NumPy does.
func ReadFile(path string) (Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return Array{}, fmt.Errorf("npy: %w", err)
	}
	defer f.Close()
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	a, err := read(bufio.NewReaderSize(f, 1<<16), size)
	if err != nil {
		return Array{}, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// read reads one array; size is the number of bytes r holds, or -1 when
// unknown.
func read(r io.Reader, size int64) (Array, error) {
	var pre [len(Magic) + 2]byte
	if n, err := io.ReadFull(r, pre[:]); err != nil {
		if n == 0 && err == io.EOF {
			return Array{}, fmt.Errorf("%w: empty input", ErrInvalid)
		}
		return Array{}, readErr("the magic string", err)
	}
	if string(pre[:len(Magic)]) != Magic {
		return Array{}, fmt.Errorf("%w: bad magic %q, want %q", ErrInvalid, pre[:len(Magic)], Magic)
	}
	major, minor := pre[len(Magic)], pre[len(Magic)+1]
	var hlen uint64
	var lenField int
	switch {
	case major == 1 && minor == 0:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return Array{}, readErr("the header length", err)
		}
		hlen, lenField = uint64(binary.LittleEndian.Uint16(b[:])), 2
	case (major == 2 || major == 3) && minor == 0:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return Array{}, readErr("the header length", err)
		}
		hlen, lenField = uint64(binary.LittleEndian.Uint32(b[:])), 4
	default:
		return Array{}, fmt.Errorf("%w: unsupported format version %d.%d (want 1.0, 2.0 or 3.0)", ErrInvalid, major, minor)
	}
	if hlen > MaxHeaderSize {
		return Array{}, fmt.Errorf("%w: header length %d exceeds the %d-byte limit", ErrInvalid, hlen, MaxHeaderSize)
	}
	consumed := int64(len(pre) + lenField)
	if size >= 0 && int64(hlen) > size-consumed {
		return Array{}, fmt.Errorf("%w: header length %d exceeds the %d bytes that follow it", ErrInvalid, hlen, size-consumed)
	}
	raw, err := readN(r, int(hlen))
	if err != nil {
		return Array{}, readErr("the header", err)
	}
	consumed += int64(hlen)
	h, err := parseHeader(raw)
	if err != nil {
		return Array{}, err
	}
	dt, bigEndian, err := parseDescr(h.descr)
	if err != nil {
		return Array{}, err
	}
	numel, ok := numelOf(h.shape)
	if !ok {
		return Array{}, fmt.Errorf("%w: shape %v has too many elements", ErrInvalid, h.shape)
	}
	nbytes, ok := byteSize(numel, dt.Size())
	if !ok {
		return Array{}, fmt.Errorf("%w: shape %v of %s is too large", ErrInvalid, h.shape, h.descr)
	}
	if size >= 0 && int64(nbytes) > size-consumed {
		return Array{}, fmt.Errorf("%w: %w: shape %v of %s needs %d bytes of data, the file has %d",
			ErrInvalid, io.ErrUnexpectedEOF, h.shape, h.descr, nbytes, size-consumed)
	}
	data, err := readN(r, nbytes)
	if err != nil {
		var short *shortError
		if errors.As(err, &short) {
			return Array{}, fmt.Errorf("%w: %w: shape %v of %s needs %d bytes of data, got %d",
				ErrInvalid, io.ErrUnexpectedEOF, h.shape, h.descr, nbytes, short.got)
		}
		return Array{}, fmt.Errorf("npy: reading the data: %w", err)
	}
	if bigEndian {
		swapBytes(data, dt.Size())
	}
	if h.fortran && len(h.shape) > 1 && numel > 0 {
		data = fortranToC(data, h.shape, dt.Size())
	}
	if dt == device.Bool {
		for i, b := range data {
			if b != 0 {
				data[i] = 1
			}
		}
	}
	return Array{DType: dt, Shape: h.shape, Data: data}, nil
}

// readErr describes a failure to read part of the preamble.
func readErr(what string, err error) error {
	var short *shortError
	if errors.As(err, &short) || err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: %w: the input ends inside %s", ErrInvalid, io.ErrUnexpectedEOF, what)
	}
	return fmt.Errorf("npy: reading %s: %w", what, err)
}

// shortError reports that a stream ended after got of the wanted bytes.
type shortError struct{ got int }

func (e *shortError) Error() string { return fmt.Sprintf("stream ended after %d bytes", e.got) }

// readN reads exactly n bytes, allocating at most chunkSize bytes more than
// it has received, so a false n on a short stream costs little memory.
func readN(r io.Reader, n int) ([]byte, error) {
	buf := make([]byte, 0, min(n, chunkSize))
	for len(buf) < n {
		want := min(n-len(buf), chunkSize)
		if cap(buf)-len(buf) < want {
			// Grow geometrically, but never past n.
			newCap := min(max(2*cap(buf), len(buf)+want), n)
			nb := make([]byte, len(buf), newCap)
			copy(nb, buf)
			buf = nb
		}
		got, err := io.ReadFull(r, buf[len(buf):len(buf)+want])
		buf = buf[:len(buf)+got]
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, &shortError{got: len(buf)}
			}
			return nil, err
		}
	}
	return buf, nil
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

// fortranToC transposes data of the given shape from Fortran (column-major)
// order to C (row-major) order.
func fortranToC(data []byte, shape []int, size int) []byte {
	nd := len(shape)
	// Fortran strides, in bytes.
	stride := make([]int, nd)
	s := size
	for k := range nd {
		stride[k] = s
		s *= shape[k]
	}
	out := make([]byte, len(data))
	idx := make([]int, nd)
	inner := shape[nd-1]
	innerStride := stride[nd-1]
	dst := 0
	for {
		src := 0
		for k := range nd - 1 {
			src += idx[k] * stride[k]
		}
		for j := 0; j < inner; j++ {
			copy(out[dst:dst+size], data[src:src+size])
			dst += size
			src += innerStride
		}
		// Advance the outer indices, last-but-one fastest.
		k := nd - 2
		for ; k >= 0; k-- {
			idx[k]++
			if idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
		if k < 0 {
			return out
		}
	}
}
