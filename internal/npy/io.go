package npy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/iosize"
)

// chunkSize bounds how much Read allocates ahead of the data it has
// actually received on a stream of unknown length, and the buffer of a
// Fortran-order transposition. A variable so that tests can exercise
// chunk boundaries.
var chunkSize = 1 << 20

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
//
// When r tells how many bytes it holds (see StreamSize), a header that
// claims more data than that fails before anything is allocated.
func Read(r io.Reader) (Array, error) {
	return read(r, StreamSize(r))
}

// StreamSize returns how many bytes r holds from where it stands, or -1
// when r does not tell (see iosize.Remaining).
func StreamSize(r io.Reader) int64 { return iosize.Remaining(r) }

// ReadFile reads the .npy file at path (see Read). Data after the array is
// ignored, as NumPy does.
func ReadFile(path string) (Array, error) {
	var a Array
	err := OpenFile(path, func(h Header, r io.Reader) error {
		a = Array{DType: h.DType, Shape: h.Shape, Data: make([]byte, h.DataSize)}
		return h.ReadData(r, a.Data)
	})
	if err != nil {
		return Array{}, err
	}
	return a, nil
}

// OpenFile opens the .npy file at path, reads and validates its header and
// calls read with it and a reader positioned at the data, for read to
// load the data where it wants it (h.ReadData). The header has been
// checked against the file's size, so h.DataSize bytes are there to read.
// Errors name the file.
func OpenFile(path string, read func(h Header, r io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	defer f.Close()
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	br := bufio.NewReaderSize(f, 1<<16)
	h, err := ReadHeader(br, size)
	if err == nil {
		err = read(h, br)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Header describes the array of a .npy file: what ReadHeader found and
// validated.
type Header struct {
	// DType is the nabla dtype of the elements.
	DType device.DType
	// Shape is the array's shape; empty for a scalar.
	Shape []int
	// Descr is the dtype as the file spells it ("<f4", ">i8", ...).
	Descr string
	// Fortran reports data stored in Fortran (column-major) order.
	Fortran bool
	// BigEndian reports big-endian data.
	BigEndian bool
	// Numel is the number of elements.
	Numel int
	// DataSize is the number of bytes of data, Numel*DType.Size().
	DataSize int
}

// ReadHeader reads the magic string, the version and the header of one
// .npy array from r and validates them, stopping where the data starts.
// size is the number of bytes r holds, or -1 when unknown: when known, a
// header whose data would not fit is an error, before the caller
// allocates anything for it. Errors are those of Read.
func ReadHeader(r io.Reader, size int64) (Header, error) {
	var pre [len(Magic) + 2]byte
	if n, err := io.ReadFull(r, pre[:]); err != nil {
		if n == 0 && err == io.EOF {
			return Header{}, fmt.Errorf("%w: empty input", ErrInvalid)
		}
		return Header{}, readErr("the magic string", err)
	}
	if string(pre[:len(Magic)]) != Magic {
		return Header{}, fmt.Errorf("%w: bad magic %q, want %q", ErrInvalid, pre[:len(Magic)], Magic)
	}
	major, minor := pre[len(Magic)], pre[len(Magic)+1]
	var hlen uint64
	var lenField int
	switch {
	case major == 1 && minor == 0:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return Header{}, readErr("the header length", err)
		}
		hlen, lenField = uint64(binary.LittleEndian.Uint16(b[:])), 2
	case (major == 2 || major == 3) && minor == 0:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return Header{}, readErr("the header length", err)
		}
		hlen, lenField = uint64(binary.LittleEndian.Uint32(b[:])), 4
	default:
		return Header{}, fmt.Errorf("%w: unsupported format version %d.%d (want 1.0, 2.0 or 3.0)", ErrInvalid, major, minor)
	}
	if hlen > MaxHeaderSize {
		return Header{}, fmt.Errorf("%w: header length %d exceeds the %d-byte limit", ErrInvalid, hlen, MaxHeaderSize)
	}
	consumed := int64(len(pre) + lenField)
	if size >= 0 && int64(hlen) > size-consumed {
		return Header{}, fmt.Errorf("%w: %w: the input ends inside the header: header length %d exceeds the %d bytes that follow it", ErrInvalid, io.ErrUnexpectedEOF, hlen, size-consumed)
	}
	raw := make([]byte, hlen) // at most MaxHeaderSize
	if _, err := io.ReadFull(r, raw); err != nil {
		return Header{}, readErr("the header", err)
	}
	consumed += int64(hlen)
	h, err := parseHeader(raw)
	if err != nil {
		return Header{}, err
	}
	dt, bigEndian, err := parseDescr(h.descr)
	if err != nil {
		return Header{}, err
	}
	numel, ok := numelOf(h.shape)
	if !ok {
		return Header{}, fmt.Errorf("%w: shape %v has too many elements", ErrInvalid, h.shape)
	}
	nbytes, ok := byteSize(numel, dt.Size())
	if !ok {
		return Header{}, fmt.Errorf("%w: shape %v of %s is too large", ErrInvalid, h.shape, h.descr)
	}
	if size >= 0 && int64(nbytes) > size-consumed {
		return Header{}, fmt.Errorf("%w: %w: shape %v of %s needs %d bytes of data, got %d",
			ErrInvalid, io.ErrUnexpectedEOF, h.shape, h.descr, nbytes, size-consumed)
	}
	return Header{DType: dt, Shape: h.shape, Descr: h.descr, Fortran: h.fortran, BigEndian: bigEndian,
		Numel: numel, DataSize: nbytes}, nil
}

// ReadData reads the data of the array h describes from r, positioned
// right after the header, into dst, which must hold exactly h.DataSize
// bytes, as little-endian elements in C order: big-endian data is
// byte-swapped in place and Fortran-order data is scattered to its C
// positions as it arrives, so no second buffer of the data's size is
// needed. Bool elements are normalised to 0 or 1. It reads exactly the
// data's bytes; data shorter than h says gives an error like Read's.
func (h Header) ReadData(r io.Reader, dst []byte) error {
	if len(dst) != h.DataSize {
		return fmt.Errorf("npy: ReadData: the destination has %d bytes, the data %d", len(dst), h.DataSize)
	}
	var err error
	if h.Fortran && len(h.Shape) > 1 && h.Numel > 0 {
		err = h.scatterFortran(r, dst)
	} else {
		var got int
		got, err = io.ReadFull(r, dst)
		err = h.dataErr(got, err)
	}
	if err != nil {
		return err
	}
	size := h.DType.Size()
	if h.BigEndian && size > 1 {
		swapBytes(dst, size)
	}
	if h.DType == device.Bool {
		for i, b := range dst {
			if b > 1 {
				dst[i] = 1
			}
		}
	}
	return nil
}

// dataErr describes a failure to read the data after got bytes.
func (h Header) dataErr(got int, err error) error {
	switch {
	case err == nil:
		return nil
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return fmt.Errorf("%w: %w: shape %v of %s needs %d bytes of data, got %d",
			ErrInvalid, io.ErrUnexpectedEOF, h.Shape, h.Descr, h.DataSize, got)
	}
	return fmt.Errorf("npy: reading the data: %w", err)
}

// scatterFortran reads Fortran-order data in chunks and copies each
// element to its C-order position in dst.
func (h Header) scatterFortran(r io.Reader, dst []byte) error {
	size, nd := h.DType.Size(), len(h.Shape)
	// C strides in bytes.
	stride := make([]int, nd)
	s := size
	for k := nd - 1; k >= 0; k-- {
		stride[k] = s
		s *= h.Shape[k]
	}
	idx := make([]int, nd)
	off := 0 // the C position of element idx
	buf := make([]byte, min(h.DataSize, max(size, chunkSize/size*size)))
	for done := 0; done < h.DataSize; {
		n := min(len(buf), h.DataSize-done)
		got, err := io.ReadFull(r, buf[:n])
		if err != nil {
			return h.dataErr(done+got, err)
		}
		for p := 0; p < n; p += size {
			copy(dst[off:off+size], buf[p:p+size])
			// Advance the Fortran index, the first dimension fastest.
			for k := range nd {
				idx[k]++
				off += stride[k]
				if idx[k] < h.Shape[k] {
					break
				}
				off -= idx[k] * stride[k]
				idx[k] = 0
			}
		}
		done += n
	}
	return nil
}

// read reads one array; size is the number of bytes r holds, or -1 when
// unknown.
func read(r io.Reader, size int64) (Array, error) {
	h, err := ReadHeader(r, size)
	if err != nil {
		return Array{}, err
	}
	if size < 0 {
		// A stream of unknown length: take memory only as data arrives.
		if r, err = h.Buffer(r); err != nil {
			return Array{}, err
		}
	}
	a := Array{DType: h.DType, Shape: h.Shape, Data: make([]byte, h.DataSize)}
	if err := h.ReadData(r, a.Data); err != nil {
		return Array{}, err
	}
	return a, nil
}

// Buffer reads the data of the array h describes from a stream of unknown
// length into memory and returns a reader over it, for ReadData. Memory is
// taken only as data arrives, in chunks that grow with it (none is copied
// to grow), so that a header claiming 10^12 elements on a short stream
// costs no more than the stream delivered; short data gives ReadData's
// error. The caller then needs the data's size a second time, for its
// destination: a stream whose length is known needs no Buffer.
func (h Header) Buffer(r io.Reader) (io.Reader, error) {
	var parts []io.Reader
	for got, chunk := 0, chunkSize; got < h.DataSize; chunk = min(2*chunk, 64*chunkSize) {
		buf := make([]byte, min(chunk, h.DataSize-got))
		n, err := io.ReadFull(r, buf)
		if err != nil {
			return nil, h.dataErr(got+n, err)
		}
		parts = append(parts, bytes.NewReader(buf))
		got += n
	}
	return io.MultiReader(parts...), nil
}

// readErr describes a failure to read part of the preamble.
func readErr(what string, err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: %w: the input ends inside %s", ErrInvalid, io.ErrUnexpectedEOF, what)
	}
	return fmt.Errorf("npy: reading %s: %w", what, err)
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
