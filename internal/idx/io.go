package idx

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// chunkSize bounds how much Read allocates ahead of the data it has
// actually received.
const chunkSize = 1 << 20

// Read reads one IDX file from r, which must end where the data ends: bytes
// after the data are an error. r is read as it is; ReadFile undoes gzip
// compression, and a gzip stream passed to Read is reported as such.
func Read(r io.Reader) (*File, error) {
	return read(r, -1)
}

// ReadFile reads the IDX file at path, decompressing it first when it is
// gzip-compressed. Compression is recognised by the gzip magic bytes 0x1f
// 0x8b, which no IDX file starts with, rather than by the name: a
// "train-images-idx3-ubyte.gz" that was already decompressed (as some
// downloaders do silently) reads fine, as does a gzip file without ".gz".
func ReadFile(path string) (*File, error) {
	osf, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("idx: %w", err)
	}
	defer osf.Close()
	f, err := readFile(osf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

func readFile(osf *os.File) (*File, error) {
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
		defer zr.Close()
		return read(zr, -1)
	}
	return read(br, size)
}

// read reads one file; size is the number of bytes r holds, or -1 when
// unknown.
func read(r io.Reader, size int64) (*File, error) {
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
			return nil, fmt.Errorf("%w: %w: truncated data: dimensions %v of %v need %d bytes, the file has %d",
				ErrInvalid, io.ErrUnexpectedEOF, dims, t, nbytes, have)
		}
		if have > nbytes {
			return nil, fmt.Errorf("%w: %d bytes of trailing data after the %d data bytes of dimensions %v of %v",
				ErrInvalid, have-nbytes, nbytes, dims, t)
		}
	}
	data, got, err := readN(r, int(nbytes))
	if err != nil {
		if err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("%w: %w: truncated data: dimensions %v of %v need %d bytes, got %d",
				ErrInvalid, io.ErrUnexpectedEOF, dims, t, nbytes, got)
		}
		return nil, fmt.Errorf("idx: reading the data: %w", err)
	}
	// The input must end here. Reading on also makes a gzip reader check
	// its checksum.
	var probe [1]byte
	n, err := io.ReadFull(r, probe[:])
	if n > 0 {
		return nil, fmt.Errorf("%w: trailing data after the %d data bytes of dimensions %v of %v",
			ErrInvalid, nbytes, dims, t)
	}
	if err != io.EOF {
		return nil, fmt.Errorf("idx: after the data: %w", err)
	}
	return &File{Type: t, Dims: dims, Data: data}, nil
}

// readN reads exactly n bytes, allocating at most chunkSize bytes more than
// it has received, so that a false n on a short input costs little memory.
// On io.ErrUnexpectedEOF it also returns how many bytes arrived.
func readN(r io.Reader, n int) ([]byte, int, error) {
	buf := make([]byte, 0, min(n, chunkSize))
	for len(buf) < n {
		want := min(n-len(buf), chunkSize)
		if cap(buf)-len(buf) < want {
			nb := make([]byte, len(buf), min(max(2*cap(buf), len(buf)+want), n))
			copy(nb, buf)
			buf = nb
		}
		got, err := io.ReadFull(r, buf[len(buf):len(buf)+want])
		buf = buf[:len(buf)+got]
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, len(buf), io.ErrUnexpectedEOF
			}
			return nil, len(buf), err
		}
	}
	return buf, n, nil
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
