package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Write writes tensors and metadata to w in the safetensors format.
//
// The output is deterministic: the header lists "__metadata__" first (left
// out when metadata is empty), then the tensors sorted by name; the data
// section holds the tensors in the same order with contiguous offsets; the
// header is padded with spaces to a multiple of 8 bytes. The caller's slice
// is not reordered.
//
// Every tensor is validated first and nothing is written when one is bad:
// names must be valid UTF-8, unique and not "__metadata__", dtypes must be
// nabla dtypes, shapes non-negative with at most MaxRank dimensions, and
// len(Data) must equal numel*DType.Size(). Such errors wrap
// ErrInvalidTensor.
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	header, order, err := buildHeader(tensors, metadata)
	if err != nil {
		return err
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(header)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	if _, err := w.Write(header); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	for _, i := range order {
		if len(tensors[i].Data) == 0 {
			continue
		}
		if _, err := w.Write(tensors[i].Data); err != nil {
			return fmt.Errorf("safetensors: write: tensor %q: %w", tensors[i].Name, err)
		}
	}
	return nil
}

// buildHeader validates tensors and metadata and returns the padded JSON
// header and the order (indices into tensors) of the data section.
func buildHeader(tensors []Tensor, metadata map[string]string) ([]byte, []int, error) {
	order := make([]int, len(tensors))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(tensors[a].Name, tensors[b].Name) })

	var buf bytes.Buffer
	buf.WriteByte('{')
	first := true
	if len(metadata) > 0 {
		keys := make([]string, 0, len(metadata))
		for k, v := range metadata {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return nil, nil, fmt.Errorf("%w: metadata %q: %q is not valid UTF-8", ErrInvalidTensor, k, v)
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		buf.WriteString(`"` + MetadataKey + `":{`)
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJSONString(&buf, k)
			buf.WriteByte(':')
			writeJSONString(&buf, metadata[k])
		}
		buf.WriteByte('}')
		first = false
	}

	var offset int64
	for pos, i := range order {
		t := &tensors[i]
		if pos > 0 && tensors[order[pos-1]].Name == t.Name {
			return nil, nil, fmt.Errorf("%w: duplicate tensor name %q", ErrInvalidTensor, t.Name)
		}
		if t.Name == MetadataKey {
			return nil, nil, fmt.Errorf("%w: %q is reserved for metadata and cannot name a tensor", ErrInvalidTensor, MetadataKey)
		}
		if !utf8.ValidString(t.Name) {
			return nil, nil, fmt.Errorf("%w: tensor name %q is not valid UTF-8", ErrInvalidTensor, t.Name)
		}
		code, ok := codeOf(t.DType)
		if !ok {
			return nil, nil, fmt.Errorf("%w: tensor %q: dtype %v is not a nabla dtype", ErrInvalidTensor, t.Name, t.DType)
		}
		if len(t.Shape) > MaxRank {
			return nil, nil, fmt.Errorf("%w: tensor %q: %d dimensions, at most %d allowed", ErrInvalidTensor, t.Name, len(t.Shape), MaxRank)
		}
		numel, ok := numelOf(t.Shape)
		if !ok {
			return nil, nil, fmt.Errorf("%w: tensor %q: shape %v has a negative dimension or too many elements", ErrInvalidTensor, t.Name, t.Shape)
		}
		nbytes, ok := byteSize(numel, 8*t.DType.Size())
		if !ok {
			return nil, nil, fmt.Errorf("%w: tensor %q: shape %v is too large", ErrInvalidTensor, t.Name, t.Shape)
		}
		if int64(len(t.Data)) != nbytes {
			return nil, nil, fmt.Errorf("%w: tensor %q: shape %v of %v needs %d bytes, data has %d",
				ErrInvalidTensor, t.Name, t.Shape, t.DType, nbytes, len(t.Data))
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		writeJSONString(&buf, t.Name)
		buf.WriteString(`:{"dtype":"` + code + `","shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString(strconv.Itoa(d))
		}
		buf.WriteString(`],"data_offsets":[`)
		buf.WriteString(strconv.FormatInt(offset, 10))
		buf.WriteByte(',')
		offset += nbytes
		buf.WriteString(strconv.FormatInt(offset, 10))
		buf.WriteString(`]}`)
	}
	buf.WriteByte('}')
	for buf.Len()%8 != 0 {
		buf.WriteByte(' ')
	}
	if buf.Len() > MaxHeaderSize {
		return nil, nil, fmt.Errorf("%w: header would be %d bytes, more than the %d allowed", ErrInvalidTensor, buf.Len(), MaxHeaderSize)
	}
	return buf.Bytes(), order, nil
}

// writeJSONString appends s as a JSON string, without the HTML escaping of
// encoding/json's default.
func writeJSONString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)           // a valid UTF-8 string always encodes
	buf.Truncate(buf.Len() - 1) // Encode adds a newline
}
