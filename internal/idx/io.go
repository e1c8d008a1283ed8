package idx

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/nabla-go/nabla/internal/iosize"
)

// chunkSize is the first chunk in which Read takes the data of an input
// of unknown length; a variable so that tests can exercise chunk
// boundaries.
var chunkSize = 1 << 20

// Header is what the header of an IDX file says: the element type and the
// dimensions, validated, and the size of the data they need.
type Header struct {
	Type Type
	Dims []int
	// DataSize is the number of bytes of data: the product of Dims times
	// Type.Size(), at most MaxDataSize.
	DataSize int
}

// Reader reads one IDX file in two steps: NewReader or Open read and
// validate the header, so that the caller can check the type and the
// dimensions and allocate a destination of Header.DataSize bytes before
// any data is read; ReadData then reads the data straight into it.
type Reader struct {
	Header
	r      io.Reader
	size   int64 // bytes the input held at the start, -1 when unknown
	closer io.Closer
}

// NewReader reads and validates the header of an IDX file from r. When r
// tells its length (a regular *os.File, or a reader with a Len method
// such as *bytes.Reader), the dimensions are checked against it at once:
// a header claiming more or less data than r holds is an error before
// anything is allocated. A gzip stream is reported as such (Open undoes
// compression).
func NewReader(r io.Reader) (*Reader, error) {
	return newReader(r, iosize.Remaining(r), "the input")
}

// NewReaderSize is NewReader for an input whose length the caller knows
// (size bytes from where r stands) but r cannot tell, such as a
// bufio.Reader over a *bytes.Reader; -1 means unknown.
func NewReaderSize(r io.Reader, size int64) (*Reader, error) {
	return newReader(r, size, "the input")
}

// StreamSize returns how many bytes r holds from where it stands, or -1
// when r does not tell: readers with a Len method (*bytes.Reader,
// *bytes.Buffer, *strings.Reader) and regular files are measured.
func StreamSize(r io.Reader) int64 { return iosize.Remaining(r) }

// Open opens the IDX file at path and reads its header (see NewReader),
// decompressing the file first when it is gzip-compressed; close the
// Reader when done. Compression is recognised by the gzip magic bytes
// 0x1f 0x8b, which no IDX file starts with, rather than by the name: a
// "train-images-idx3-ubyte.gz" that was already decompressed (as some
// downloaders do silently) reads fine, as does a gzip file without ".gz".
// The data of an uncompressed file is checked against the file's size
// before anything is allocated; that of a compressed one can only be
// counted as it is decompressed.
func Open(path string) (*Reader, error) {
	osf, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("idx: %w", err)
	}
	rd, err := openFile(osf)
	if err != nil {
		osf.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rd.closer = osf
	return rd, nil
}

func openFile(osf *os.File) (*Reader, error) {
	size := int64(-1)
	if st, err := osf.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	br := bufio.NewReaderSize(osf, 1<<16)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("idx: gzip: %w", err)
		}
		return newReader(zr, -1, "the input")
	}
	return newReader(br, size, "the file")
}

// Close closes the file Open opened; for a Reader made by NewReader it
// does nothing.
func (r *Reader) Close() error {
	if r.closer == nil {
		return nil
	}
	c := r.closer
	r.closer = nil
	return c.Close()
}

// ReadData reads the data into dst, which must hold exactly DataSize
// bytes, as the file stores it (big-endian for the multi-byte types), and
// checks that the input ends there: a truncated input or trailing bytes
// are errors wrapping ErrInvalid, and a gzip stream's checksum is
// verified.
func (r *Reader) ReadData(dst []byte) error {
	if len(dst) != r.DataSize {
		return fmt.Errorf("idx: ReadData: the destination has %d bytes, the data %d", len(dst), r.DataSize)
	}
	got, err := io.ReadFull(r.r, dst)
	if err != nil {
		return r.dataErr(got, err)
	}
	return r.checkEnd()
}

// dataErr describes a failure to read the data after got bytes.
func (r *Reader) dataErr(got int, err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: %w: truncated data: dimensions %v of %v need %d bytes, got %d",
			ErrInvalid, io.ErrUnexpectedEOF, r.Dims, r.Type, r.DataSize, got)
	}
	return fmt.Errorf("idx: reading the data: %w", err)
}

// checkEnd checks that the input ends after the data. Reading on also
// makes a gzip reader check its checksum.
func (r *Reader) checkEnd() error {
	var probe [1]byte
	n, err := io.ReadFull(r.r, probe[:])
	if n > 0 {
		return fmt.Errorf("%w: trailing data after the %d data bytes of dimensions %v of %v",
			ErrInvalid, r.DataSize, r.Dims, r.Type)
	}
	if err != io.EOF {
		return fmt.Errorf("idx: after the data: %w", err)
	}
	return nil
}

// Read reads one IDX file from r, which must end where the data ends:
// bytes after the data are an error. r is read as it is; ReadFile undoes
// gzip compression, and a gzip stream passed to Read is reported as such.
// When r does not tell its length, memory is taken only as data arrives,
// so that a header claiming gigabytes on a short input costs little.
func Read(r io.Reader) (*File, error) {
	rd, err := NewReader(r)
	if err != nil {
		return nil, err
	}
	return rd.readAll()
}

// ReadFile reads the IDX file at path (see Open), decompressing it first
// when it is gzip-compressed.
func ReadFile(path string) (*File, error) {
	rd, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	f, err := rd.readAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// readAll reads the data into a new File.
func (r *Reader) readAll() (*File, error) {
	if r.size < 0 {
		// Unknown length: take the data in chunks as it arrives (none
		// copied to grow), then into one slice.
		var parts []io.Reader
		for got, chunk := 0, chunkSize; got < r.DataSize; chunk = min(2*chunk, 64*chunkSize) {
			buf := make([]byte, min(chunk, r.DataSize-got))
			n, err := io.ReadFull(r.r, buf)
			if err != nil {
				return nil, r.dataErr(got+n, err)
			}
			parts = append(parts, bytes.NewReader(buf))
			got += n
		}
		r.r = io.MultiReader(append(parts, r.r)...)
	}
	data := make([]byte, r.DataSize)
	if err := r.ReadData(data); err != nil {
		return nil, err
	}
	return &File{Type: r.Type, Dims: r.Dims, Data: data}, nil
}

// newReader reads the header; size is the number of bytes r holds, or -1
// when unknown, and where names the input in messages.
func newReader(r io.Reader, size int64, where string) (*Reader, error) {
	var magic [4]byte
	if n, err := io.ReadFull(r, magic[:]); err != nil {
		if n == 0 && err == io.EOF {
			return nil, fmt.Errorf("%w: empty input", ErrInvalid)
		}
		if err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("%w: %w: %d bytes, too short for the 4-byte magic number", ErrInvalid, err, n)
		}
		return nil, fmt.Errorf("idx: reading the magic number: %w", err)
	}
	if magic[0] == 0x1f && magic[1] == 0x8b {
		return nil, fmt.Errorf("%w: the input is gzip-compressed; use ReadFile or gzip.NewReader", ErrInvalid)
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, fmt.Errorf("%w: bad magic number %#02x %#02x %#02x %#02x, want 0x00 0x00 <type> <ndims>",
			ErrInvalid, magic[0], magic[1], magic[2], magic[3])
	}
	t := Type(magic[2])
	if !t.Valid() {
		return nil, fmt.Errorf("%w: unknown data type code %#02x (want 0x08, 0x09, 0x0b, 0x0c, 0x0d or 0x0e)", ErrInvalid, magic[2])
	}
	ndims := int(magic[3])
	if ndims < 1 || ndims > MaxDims {
		return nil, fmt.Errorf("%w: %d dimensions, want 1 to %d", ErrInvalid, ndims, MaxDims)
	}
	var dimBuf [4 * MaxDims]byte
	if _, err := io.ReadFull(r, dimBuf[:4*ndims]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("%w: %w: the input ends inside the %d dimensions", ErrInvalid, io.ErrUnexpectedEOF, ndims)
		}
		return nil, fmt.Errorf("idx: reading the dimensions: %w", err)
	}
	dims := make([]int, ndims)
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(dimBuf[4*i:]))
	}
	nbytes, err := dataSize(t, dims)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, err)
	}
	if size >= 0 {
		have := size - 4 - 4*int64(ndims)
		if have < nbytes {
			got := fmt.Sprintf("got %d", have)
			if where == "the file" {
				got = fmt.Sprintf("the file has %d", have)
			}
			return nil, fmt.Errorf("%w: %w: truncated data: dimensions %v of %v need %d bytes, %s",
				ErrInvalid, io.ErrUnexpectedEOF, dims, t, nbytes, got)
		}
		if have > nbytes {
			return nil, fmt.Errorf("%w: %d bytes of trailing data after the %d data bytes of dimensions %v of %v",
				ErrInvalid, have-nbytes, nbytes, dims, t)
		}
	}
	return &Reader{Header: Header{Type: t, Dims: dims, DataSize: int(nbytes)}, r: r, size: size}, nil
}

// Write writes f to w in the IDX format. f.Type must be a valid type,
// f.Dims 1 to MaxDims nonzero dimensions below 2^32, and len(f.Data) must be
// their product times the type's size (Data is written as it is, so
// multi-byte elements must already be big-endian). Errors about f wrap
// ErrInvalidFile, and nothing is written then.
func Write(w io.Writer, f *File) error {
	if !f.Type.Valid() {
		return fmt.Errorf("%w: unknown type %v", ErrInvalidFile, f.Type)
	}
	nbytes, err := dataSize(f.Type, f.Dims)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrInvalidFile, err)
	}
	if int64(len(f.Data)) != nbytes {
		return fmt.Errorf("%w: dimensions %v of %v need %d bytes, data has %d", ErrInvalidFile, f.Dims, f.Type, nbytes, len(f.Data))
	}
	hdr := make([]byte, 4, 4+4*len(f.Dims))
	hdr[2], hdr[3] = byte(f.Type), byte(len(f.Dims))
	for _, d := range f.Dims {
		hdr = binary.BigEndian.AppendUint32(hdr, uint32(d))
	}
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("idx: write: %w", err)
	}
	if _, err := w.Write(f.Data); err != nil {
		return fmt.Errorf("idx: write: %w", err)
	}
	return nil
}

// WriteFile writes f to the file at path (see Write), gzip-compressed when
// path ends in ".gz". Data sets for tests are made this way.
func WriteFile(path string, f *File) (err error) {
	if err := Write(io.Discard, f); err != nil { // validate before creating the file
		return err
	}
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("idx: %w", err)
	}
	defer func() {
		if cerr := out.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("idx: %w", cerr)
		}
	}()
	bw := bufio.NewWriter(out)
	var w io.Writer = bw
	var zw *gzip.Writer
	if strings.EqualFold(filepath.Ext(path), ".gz") {
		zw = gzip.NewWriter(bw)
		w = zw
	}
	if err := Write(w, f); err != nil {
		return err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return fmt.Errorf("idx: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("idx: %w", err)
	}
	return nil
}
