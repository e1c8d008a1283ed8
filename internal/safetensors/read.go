package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// File is a parsed safetensors file: its metadata and the description of
// every tensor. Tensor data is read from the underlying reader on demand.
// A File is safe for concurrent use when its reader is (an *os.File is).
type File struct {
	r         io.ReaderAt
	closer    io.Closer
	dataStart int64
	metadata  map[string]string
	names     []string
	infos     map[string]*TensorInfo
}

// Read parses the header of a safetensors file of size bytes read through
// r and validates it completely; tensor data is read later, by Tensor.
//
// size must be the real size of the file: Read checks that r holds that
// many bytes, and uses it to bound every allocation. Errors about the file's
// contents wrap ErrInvalid.
func Read(r io.ReaderAt, size int64) (*File, error) {
	if size < 8 {
		return nil, fmt.Errorf("%w: %d bytes, too short for the 8-byte header length", ErrInvalid, size)
	}
	var lenBuf [8]byte
	if err := readFullAt(r, lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("safetensors: reading the header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > MaxHeaderSize {
		return nil, fmt.Errorf("%w: header length %d exceeds the %d-byte limit", ErrInvalid, n, MaxHeaderSize)
	}
	if n > uint64(size-8) {
		return nil, fmt.Errorf("%w: header length %d exceeds the %d bytes that follow it", ErrInvalid, n, size-8)
	}
	if n < 2 {
		return nil, fmt.Errorf("%w: header length %d is too short for a JSON object", ErrInvalid, n)
	}
	header := make([]byte, n)
	if err := readFullAt(r, header, 8); err != nil {
		return nil, fmt.Errorf("safetensors: reading the header: %w", err)
	}
	dataStart := 8 + int64(n)
	dataLen := size - dataStart

	f := &File{r: r, dataStart: dataStart, infos: map[string]*TensorInfo{}}
	if err := f.parseHeader(header, dataLen); err != nil {
		return nil, err
	}
	if err := f.checkOffsets(dataLen); err != nil {
		return nil, err
	}
	if dataLen > 0 {
		// The offsets were checked against size; make sure the reader
		// really holds size bytes.
		var last [1]byte
		if err := readFullAt(r, last[:], size-1); err != nil {
			return nil, fmt.Errorf("safetensors: the data section is shorter than the stated size %d: %w", size, err)
		}
	}
	f.names = make([]string, 0, len(f.infos))
	for name := range f.infos {
		f.names = append(f.names, name)
	}
	slices.Sort(f.names)
	return f, nil
}

// ReadFile opens the safetensors file at path and parses its header (see
// Read). The file stays open for Tensor until Close is called.
func ReadFile(path string) (*File, error) {
	osf, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	st, err := osf.Stat()
	if err != nil {
		osf.Close()
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	if !st.Mode().IsRegular() {
		osf.Close()
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrInvalid, path)
	}
	f, err := Read(osf, st.Size())
	if err != nil {
		osf.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.closer = osf
	return f, nil
}

// Close releases the file opened by ReadFile. For a File made by Read it
// does nothing; the caller owns the reader.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	c := f.closer
	f.closer = nil
	return c.Close()
}

// Metadata returns a copy of the header's "__metadata__" object, or nil when
// the file has none.
func (f *File) Metadata() map[string]string {
	if f.metadata == nil {
		return nil
	}
	m := make(map[string]string, len(f.metadata))
	for k, v := range f.metadata {
		m[k] = v
	}
	return m
}

// Names returns the names of the file's tensors, sorted.
func (f *File) Names() []string { return slices.Clone(f.names) }

// Len returns the number of tensors in the file.
func (f *File) Len() int { return len(f.names) }

// Info describes the tensor called name, reporting false when the file
// holds no such tensor.
func (f *File) Info(name string) (TensorInfo, bool) {
	ti, ok := f.infos[name]
	if !ok {
		return TensorInfo{}, false
	}
	c := *ti
	c.Shape = slices.Clone(ti.Shape)
	return c, true
}

// Tensor reads the tensor called name. It fails with an error wrapping
// ErrNotFound when there is no such tensor and ErrUnsupportedDType when its
// dtype is not a nabla dtype. BOOL elements are normalised to 0 or 1.
func (f *File) Tensor(name string) (Tensor, error) {
	ti, err := f.supported(name)
	if err != nil {
		return Tensor{}, err
	}
	data := make([]byte, ti.End-ti.Begin)
	if err := f.ReadData(name, data); err != nil {
		return Tensor{}, err
	}
	return Tensor{Name: name, DType: ti.DType, Shape: slices.Clone(ti.Shape), Data: data}, nil
}

// ReadData reads the data of the tensor called name into dst, which must
// hold exactly its End-Begin bytes: the elements in row-major order,
// little-endian, BOOL normalised to 0 or 1. It lets the caller allocate
// the data's final home (a tensor's memory) after checking the tensor's
// Info, and read straight into it. It fails like Tensor.
func (f *File) ReadData(name string, dst []byte) error {
	ti, err := f.supported(name)
	if err != nil {
		return err
	}
	if int64(len(dst)) != ti.End-ti.Begin {
		return fmt.Errorf("safetensors: ReadData %q: the destination has %d bytes, the tensor %d", name, len(dst), ti.End-ti.Begin)
	}
	if err := readFullAt(f.r, dst, f.dataStart+ti.Begin); err != nil {
		return fmt.Errorf("safetensors: reading tensor %q: %w", name, err)
	}
	if ti.Code == "BOOL" {
		normaliseBools(dst)
	}
	return nil
}

// ReadChunks reads the data of the tensor called name in pieces of at
// most len(buf) bytes and passes each to fn, which must not keep it: a
// checksum over a tensor that nobody needs in memory costs buf, not the
// tensor's size. The bytes are those ReadData gives; it fails like
// Tensor, or with fn's error.
func (f *File) ReadChunks(name string, buf []byte, fn func(chunk []byte) error) error {
	ti, err := f.supported(name)
	if err != nil {
		return err
	}
	if len(buf) == 0 {
		return fmt.Errorf("safetensors: ReadChunks %q: empty buffer", name)
	}
	for off := ti.Begin; off < ti.End; {
		chunk := buf[:min(int64(len(buf)), ti.End-off)]
		if err := readFullAt(f.r, chunk, f.dataStart+off); err != nil {
			return fmt.Errorf("safetensors: reading tensor %q: %w", name, err)
		}
		if ti.Code == "BOOL" {
			normaliseBools(chunk)
		}
		if err := fn(chunk); err != nil {
			return err
		}
		off += int64(len(chunk))
	}
	return nil
}

// supported returns the info of the tensor called name, failing when
// there is none or its dtype is not a nabla dtype.
func (f *File) supported(name string) (*TensorInfo, error) {
	ti, ok := f.infos[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	if !ti.DType.Valid() {
		return nil, fmt.Errorf("%w: tensor %q has dtype %s (nabla supports %s)", ErrUnsupportedDType, name, ti.Code, supportedCodes)
	}
	return ti, nil
}

// normaliseBools maps every nonzero byte to 1.
func normaliseBools(b []byte) {
	for i, v := range b {
		if v > 1 {
			b[i] = 1
		}
	}
}

// Tensors reads every tensor, sorted by name. It fails like Tensor on the
// first tensor that cannot be read.
func (f *File) Tensors() ([]Tensor, error) {
	out := make([]Tensor, 0, len(f.names))
	for _, name := range f.names {
		t, err := f.Tensor(name)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// readFullAt fills buf from r at off.
func readFullAt(r io.ReaderAt, buf []byte, off int64) error {
	n, err := r.ReadAt(buf, off)
	if n == len(buf) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// parseHeader parses the JSON header into f.metadata and f.infos, checking
// dtypes, shapes and that each tensor's offsets lie in the data section and
// span exactly its size.
func (f *File) parseHeader(header []byte, dataLen int64) error {
	if header[0] != '{' {
		return fmt.Errorf("%w: header does not start with '{'", ErrInvalid)
	}
	if !utf8.Valid(header) {
		return fmt.Errorf("%w: header is not valid UTF-8", ErrInvalid)
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.UseNumber()
	p := &parser{dec: dec}
	if err := p.delim('{'); err != nil {
		return err
	}
	haveMetadata := false
	for dec.More() {
		key, err := p.key()
		if err != nil {
			return err
		}
		if key == MetadataKey {
			if haveMetadata {
				return fmt.Errorf("%w: duplicate key %q in header", ErrInvalid, key)
			}
			haveMetadata = true
			if f.metadata, err = p.metadata(); err != nil {
				return err
			}
			continue
		}
		if _, dup := f.infos[key]; dup {
			return fmt.Errorf("%w: duplicate tensor name %q in header", ErrInvalid, key)
		}
		ti, err := p.tensorInfo(key, dataLen)
		if err != nil {
			return err
		}
		f.infos[key] = ti
	}
	if err := p.delim('}'); err != nil {
		return err
	}
	// Only whitespace (the padding) may follow the object.
	if tok, err := dec.Token(); err != io.EOF {
		if err != nil {
			return fmt.Errorf("%w: bad JSON after the header object: %v", ErrInvalid, err)
		}
		return fmt.Errorf("%w: unexpected %v after the header object", ErrInvalid, tok)
	}
	return nil
}

// checkOffsets checks that the tensors' byte ranges do not overlap and
// cover the data section without holes.
func (f *File) checkOffsets(dataLen int64) error {
	byOffset := make([]*TensorInfo, 0, len(f.infos))
	for _, ti := range f.infos {
		byOffset = append(byOffset, ti)
	}
	slices.SortFunc(byOffset, func(a, b *TensorInfo) int {
		if a.Begin != b.Begin {
			return cmpInt64(a.Begin, b.Begin)
		}
		if a.End != b.End {
			return cmpInt64(a.End, b.End)
		}
		return strings.Compare(a.Name, b.Name)
	})
	var end int64
	var prev string
	for _, ti := range byOffset {
		switch {
		case ti.Begin < end:
			return fmt.Errorf("%w: tensor %q (bytes %d to %d) overlaps tensor %q (ending at %d)", ErrInvalid, ti.Name, ti.Begin, ti.End, prev, end)
		case ti.Begin > end:
			return fmt.Errorf("%w: hole in the data section: bytes %d to %d belong to no tensor", ErrInvalid, end, ti.Begin)
		}
		end = ti.End
		prev = ti.Name
	}
	if end != dataLen {
		return fmt.Errorf("%w: the data section has %d bytes but the tensors cover %d", ErrInvalid, dataLen, end)
	}
	return nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// parser walks the header's JSON tokens, so that duplicate keys can be
// rejected and sizes checked before anything is allocated.
type parser struct {
	dec *json.Decoder
}

func (p *parser) token() (json.Token, error) {
	tok, err := p.dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%w: bad JSON header: %v", ErrInvalid, err)
	}
	return tok, nil
}

func (p *parser) delim(want json.Delim) error { return p.delimIn(want, "") }

// delimIn reads the delimiter want; where names the value it opens or
// closes, for the error message.
func (p *parser) delimIn(want json.Delim, where string) error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		if where != "" {
			where += ": "
		}
		return fmt.Errorf("%w: bad JSON header: %swant %q, got %s", ErrInvalid, where, rune(want), describe(tok))
	}
	return nil
}

func (p *parser) key() (string, error) {
	tok, err := p.token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("%w: bad JSON header: want a key, got %s", ErrInvalid, describe(tok))
	}
	return s, nil
}

// describe names a JSON token for an error message.
func describe(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		return strconv.Quote(t.String())
	case string:
		return "string " + strconv.Quote(t)
	case json.Number:
		return "number " + t.String()
	case bool:
		return "boolean " + strconv.FormatBool(t)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}

// metadata parses the "__metadata__" value: null or an object of strings.
func (p *parser) metadata() (map[string]string, error) {
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return nil, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%w: %q must be an object of strings, got %s", ErrInvalid, MetadataKey, describe(tok))
	}
	m := map[string]string{}
	for p.dec.More() {
		k, err := p.key()
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("%w: duplicate metadata key %q", ErrInvalid, k)
		}
		tok, err := p.token()
		if err != nil {
			return nil, err
		}
		v, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("%w: metadata %q must be a string, got %s", ErrInvalid, k, describe(tok))
		}
		m[k] = v
	}
	return m, p.delim('}')
}

// tensorInfo parses one tensor's {"dtype", "shape", "data_offsets"} object.
// Unknown keys are skipped, as the reference implementation does.
func (p *parser) tensorInfo(name string, dataLen int64) (*TensorInfo, error) {
	if err := p.delimIn('{', fmt.Sprintf("tensor %q", name)); err != nil {
		return nil, err
	}
	ti := &TensorInfo{Name: name}
	var dt dtypeInfo
	var haveDType, haveShape, haveOffsets bool
	var begin, end uint64
	for p.dec.More() {
		k, err := p.key()
		if err != nil {
			return nil, err
		}
		switch k {
		case "dtype":
			if haveDType {
				return nil, fmt.Errorf("%w: tensor %q: duplicate key %q", ErrInvalid, name, k)
			}
			haveDType = true
			tok, err := p.token()
			if err != nil {
				return nil, err
			}
			code, ok := tok.(string)
			if !ok {
				return nil, fmt.Errorf("%w: tensor %q: dtype must be a string, got %s", ErrInvalid, name, describe(tok))
			}
			if dt, ok = lookupCode(code); !ok {
				return nil, fmt.Errorf("%w: tensor %q: unknown dtype %q", ErrInvalid, name, code)
			}
			ti.Code, ti.DType = dt.code, dt.dtype
		case "shape":
			if haveShape {
				return nil, fmt.Errorf("%w: tensor %q: duplicate key %q", ErrInvalid, name, k)
			}
			haveShape = true
			dims, err := p.uintArray(name, k, MaxRank, math.MaxInt)
			if err != nil {
				return nil, err
			}
			ti.Shape = make([]int, len(dims))
			for i, d := range dims {
				ti.Shape[i] = int(d)
			}
		case "data_offsets":
			if haveOffsets {
				return nil, fmt.Errorf("%w: tensor %q: duplicate key %q", ErrInvalid, name, k)
			}
			haveOffsets = true
			offs, err := p.uintArray(name, k, 2, math.MaxInt64)
			if err != nil {
				return nil, err
			}
			if len(offs) != 2 {
				return nil, fmt.Errorf("%w: tensor %q: data_offsets must be [begin, end], got %d numbers", ErrInvalid, name, len(offs))
			}
			begin, end = offs[0], offs[1]
		default:
			var skip json.RawMessage
			if err := p.dec.Decode(&skip); err != nil {
				return nil, fmt.Errorf("%w: bad JSON header: %v", ErrInvalid, err)
			}
		}
	}
	if err := p.delim('}'); err != nil {
		return nil, err
	}
	switch {
	case !haveDType:
		return nil, fmt.Errorf("%w: tensor %q has no dtype", ErrInvalid, name)
	case !haveShape:
		return nil, fmt.Errorf("%w: tensor %q has no shape", ErrInvalid, name)
	case !haveOffsets:
		return nil, fmt.Errorf("%w: tensor %q has no data_offsets", ErrInvalid, name)
	}
	numel, ok := numelOf(ti.Shape)
	if !ok {
		return nil, fmt.Errorf("%w: tensor %q: shape %v has too many elements", ErrInvalid, name, ti.Shape)
	}
	nbytes, ok := byteSize(numel, dt.bits)
	if !ok {
		return nil, fmt.Errorf("%w: tensor %q: shape %v of %s does not fit in whole bytes or is too large", ErrInvalid, name, ti.Shape, dt.code)
	}
	if begin > end {
		return nil, fmt.Errorf("%w: tensor %q: data_offsets [%d, %d] begin after they end", ErrInvalid, name, begin, end)
	}
	if end > uint64(dataLen) {
		return nil, fmt.Errorf("%w: tensor %q: data_offsets [%d, %d] run past the %d-byte data section", ErrInvalid, name, begin, end, dataLen)
	}
	if end-begin != uint64(nbytes) {
		return nil, fmt.Errorf("%w: tensor %q: data_offsets [%d, %d] span %d bytes, shape %v of %s needs %d",
			ErrInvalid, name, begin, end, end-begin, ti.Shape, dt.code, nbytes)
	}
	ti.Begin, ti.End = int64(begin), int64(end)
	return ti, nil
}

// uintArray parses a JSON array of at most maxLen non-negative integers no
// larger than maxVal.
func (p *parser) uintArray(name, key string, maxLen int, maxVal uint64) ([]uint64, error) {
	if err := p.delimIn('[', fmt.Sprintf("tensor %q: %s", name, key)); err != nil {
		return nil, err
	}
	out := []uint64{}
	for p.dec.More() {
		if len(out) == maxLen {
			return nil, fmt.Errorf("%w: tensor %q: %s has more than %d entries", ErrInvalid, name, key, maxLen)
		}
		tok, err := p.token()
		if err != nil {
			return nil, err
		}
		num, ok := tok.(json.Number)
		if !ok {
			return nil, fmt.Errorf("%w: tensor %q: %s must hold integers, got %s", ErrInvalid, name, key, describe(tok))
		}
		v, err := strconv.ParseUint(string(num), 10, 64)
		if err != nil || v > maxVal {
			return nil, fmt.Errorf("%w: tensor %q: %s entry %s is not an integer in [0, %d]", ErrInvalid, name, key, num, maxVal)
		}
		out = append(out, v)
	}
	if err := p.delim(']'); err != nil {
		return nil, err
	}
	return out, nil
}
