package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

func f32bytes(vals ...float32) []byte {
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func f64bytes(vals ...float64) []byte {
	b := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	return b
}

func i64bytes(vals ...int64) []byte {
	b := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
	}
	return b
}

// raw builds a file from a header string and a data section, without
// padding, so tests can state hostile headers exactly.
func raw(header string, data []byte) []byte {
	b := make([]byte, 8, 8+len(header)+len(data))
	binary.LittleEndian.PutUint64(b, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func writeBytes(t *testing.T, tensors []Tensor, meta map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, tensors, meta))
	return buf.Bytes()
}

func readBytes(b []byte) (*File, error) { return Read(bytes.NewReader(b), int64(len(b))) }

func sampleTensors() []Tensor {
	return []Tensor{
		{Name: "weight", DType: device.Float32, Shape: []int{2, 3}, Data: f32bytes(1, 2, 3, 4, 5, 6)},
		{Name: "bias", DType: device.Float64, Shape: []int{2}, Data: f64bytes(-0.5, math.Inf(1))},
		{Name: "labels", DType: device.Int64, Shape: []int{3}, Data: i64bytes(-1, 0, math.MaxInt64)},
		{Name: "mask", DType: device.Bool, Shape: []int{2, 2}, Data: []byte{1, 0, 0, 1}},
		{Name: "pixels", DType: device.Uint8, Shape: []int{1, 1, 3}, Data: []byte{0, 128, 255}},
		{Name: "scalar", DType: device.Float32, Shape: []int{}, Data: f32bytes(42)},
		{Name: "empty", DType: device.Float32, Shape: []int{0, 5}, Data: []byte{}},
		{Name: "0.weight \"quoted\" <é>", DType: device.Uint8, Shape: []int{1}, Data: []byte{7}},
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
	}{
		{"none", nil, nil},
		{"metadata only", nil, map[string]string{"format": "pt"}},
		{"one", []Tensor{{Name: "x", DType: device.Float32, Shape: []int{1}, Data: f32bytes(1)}}, nil},
		{"all dtypes", sampleTensors(), map[string]string{"format": "pt", "epoch": "3", "quote\"": "<&>"}},
		{"only empty", []Tensor{{Name: "e", DType: device.Int64, Shape: []int{0}, Data: nil}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := writeBytes(t, tc.tensors, tc.meta)
			hlen := binary.LittleEndian.Uint64(b)
			require.Zero(t, hlen%8, "header padded to a multiple of 8")

			f, err := readBytes(b)
			require.NoError(t, err)
			if len(tc.meta) == 0 {
				require.Nil(t, f.Metadata())
			} else {
				require.Equal(t, tc.meta, f.Metadata())
			}
			require.Equal(t, len(tc.tensors), f.Len())
			names := f.Names()
			require.IsIncreasing(t, names)
			for _, want := range tc.tensors {
				got, err := f.Tensor(want.Name)
				require.NoError(t, err)
				require.Equal(t, want.DType, got.DType)
				require.Equal(t, len(want.Shape), len(got.Shape))
				if len(want.Shape) > 0 {
					require.Equal(t, want.Shape, got.Shape)
				}
				require.Equal(t, len(want.Data), len(got.Data))
				if len(want.Data) > 0 {
					require.Equal(t, want.Data, got.Data)
				}
				info, ok := f.Info(want.Name)
				require.True(t, ok)
				require.Equal(t, want.DType, info.DType)
				require.Equal(t, int64(len(want.Data)), info.End-info.Begin)
			}
			all, err := f.Tensors()
			require.NoError(t, err)
			require.Len(t, all, len(tc.tensors))

			// Writing what was read gives the same bytes.
			require.Equal(t, b, writeBytes(t, all, f.Metadata()))
		})
	}
}

func TestWriteIsDeterministic(t *testing.T) {
	tensors := []Tensor{
		{Name: "b", DType: device.Float32, Shape: []int{2}, Data: f32bytes(1, 2)},
		{Name: "a", DType: device.Uint8, Shape: []int{3}, Data: []byte{1, 2, 3}},
	}
	got := writeBytes(t, tensors, map[string]string{"z": "1", "format": "pt"})
	header := `{"__metadata__":{"format":"pt","z":"1"},` +
		`"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},` +
		`"b":{"dtype":"F32","shape":[2],"data_offsets":[3,11]}}`
	header += strings.Repeat(" ", (8-len(header)%8)%8)
	want := raw(header, append([]byte{1, 2, 3}, f32bytes(1, 2)...))
	require.Equal(t, string(want), string(got))
	require.Equal(t, "b", tensors[0].Name, "Write must not reorder the caller's slice")

	// No tensors, no metadata: "{}" padded to 8 bytes.
	require.Equal(t, raw("{}      ", nil), writeBytes(t, nil, nil))
}

func TestWriteErrors(t *testing.T) {
	ok := Tensor{Name: "ok", DType: device.Float32, Shape: []int{1}, Data: f32bytes(1)}
	tests := []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
		msg     string
	}{
		{"duplicate name", []Tensor{ok, ok}, nil, `duplicate tensor name "ok"`},
		{"reserved name", []Tensor{{Name: MetadataKey, DType: device.Uint8, Shape: []int{0}}}, nil, "reserved for metadata"},
		{"bad dtype", []Tensor{{Name: "x", DType: device.DType(99), Shape: []int{1}, Data: []byte{1}}}, nil, "is not a nabla dtype"},
		{"negative dim", []Tensor{{Name: "x", DType: device.Uint8, Shape: []int{2, -1}}}, nil, "negative dimension"},
		{"overflowing shape", []Tensor{{Name: "x", DType: device.Uint8, Shape: []int{math.MaxInt, 3}}}, nil, "too many elements"},
		{"overflowing bytes", []Tensor{{Name: "x", DType: device.Float64, Shape: []int{math.MaxInt64 / 4}}}, nil, "too large"},
		{"too many dims", []Tensor{{Name: "x", DType: device.Uint8, Shape: make([]int, MaxRank+1)}}, nil, "at most 64 allowed"},
		{"short data", []Tensor{{Name: "x", DType: device.Float32, Shape: []int{2, 3}, Data: make([]byte, 23)}}, nil, "needs 24 bytes, data has 23"},
		{"long data", []Tensor{{Name: "x", DType: device.Uint8, Shape: []int{}, Data: make([]byte, 2)}}, nil, "needs 1 bytes, data has 2"},
		{"bad utf8 name", []Tensor{{Name: "\xff", DType: device.Uint8, Shape: []int{0}}}, nil, "not valid UTF-8"},
		{"bad utf8 metadata", nil, map[string]string{"k": "\xfe"}, "not valid UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tc.tensors, tc.meta)
			require.ErrorIs(t, err, ErrInvalidTensor)
			require.ErrorContains(t, err, tc.msg)
			require.Zero(t, buf.Len(), "nothing is written for invalid input")
		})
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n <= 0 {
		return 0, errors.New("disk full")
	}
	w.n--
	return len(p), nil
}

func TestWriteIOError(t *testing.T) {
	for n := range 3 {
		err := Write(&failWriter{n: n}, sampleTensors()[:1], nil)
		require.ErrorContains(t, err, "disk full")
	}
}

func TestReadHostile(t *testing.T) {
	f32x2 := f32bytes(1, 2)
	tests := []struct {
		name string
		file []byte
		msg  string
	}{
		{"empty file", nil, "too short for the 8-byte header length"},
		{"seven bytes", make([]byte, 7), "too short"},
		{"huge header length", binary.LittleEndian.AppendUint64(nil, 1<<62), "exceeds the 104857600-byte limit"},
		{"max uint64 header length", binary.LittleEndian.AppendUint64(nil, math.MaxUint64), "exceeds the 104857600-byte limit"},
		{"header length past end", append(binary.LittleEndian.AppendUint64(nil, 100), "{}"...), "header length 100 exceeds the 2 bytes that follow it"},
		{"zero header length", raw("", nil), "too short for a JSON object"},
		{"not an object", raw(`[1, 2]`, nil), "does not start with '{'"},
		{"leading space", raw(` {}`, nil), "does not start with '{'"},
		{"bad json", raw(`{"a":`, nil), "bad JSON header"},
		{"bad json token", raw(`{"a" 1}`, nil), "bad JSON header"},
		{"trailing garbage", raw(`{}x`, nil), "bad JSON after the header object"},
		{"second object", raw(`{} {}`, nil), "after the header object"},
		{"invalid utf8", raw("{\"\xff\":1}", nil), "not valid UTF-8"},
		{"tensor not an object", raw(`{"a":1}`, nil), `bad JSON header: tensor "a": want '{', got number 1`},
		{"shape not array", raw(`{"a":{"dtype":"U8","shape":3,"data_offsets":[0,0]}}`, nil), `bad JSON header: tensor "a": shape: want '[', got number 3`},
		{"duplicate tensor", raw(`{"a":{"dtype":"U8","shape":[],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[],"data_offsets":[1,2]}}`, []byte{1, 2}), `duplicate tensor name "a"`},
		{"duplicate metadata", raw(`{"__metadata__":{},"__metadata__":{}}`, nil), `duplicate key "__metadata__"`},
		{"duplicate metadata key", raw(`{"__metadata__":{"k":"1","k":"2"}}`, nil), `duplicate metadata key "k"`},
		{"metadata not strings", raw(`{"__metadata__":{"k":1}}`, nil), `metadata "k" must be a string, got number 1`},
		{"metadata not object", raw(`{"__metadata__":[]}`, nil), `must be an object of strings`},
		{"duplicate dtype", raw(`{"a":{"dtype":"U8","dtype":"U8","shape":[],"data_offsets":[0,1]}}`, []byte{1}), `duplicate key "dtype"`},
		{"dtype not string", raw(`{"a":{"dtype":8,"shape":[],"data_offsets":[0,1]}}`, []byte{1}), "dtype must be a string"},
		{"unknown dtype", raw(`{"a":{"dtype":"F33","shape":[],"data_offsets":[0,4]}}`, f32x2[:4]), `unknown dtype "F33"`},
		{"missing dtype", raw(`{"a":{"shape":[],"data_offsets":[0,1]}}`, []byte{1}), `tensor "a" has no dtype`},
		{"missing shape", raw(`{"a":{"dtype":"U8","data_offsets":[0,1]}}`, []byte{1}), `tensor "a" has no shape`},
		{"missing offsets", raw(`{"a":{"dtype":"U8","shape":[]}}`, nil), `tensor "a" has no data_offsets`},
		{"negative dim", raw(`{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}`, nil), "shape entry -1 is not an integer"},
		{"fractional dim", raw(`{"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,0]}}`, nil), "shape entry 1.5 is not an integer"},
		{"exponent dim", raw(`{"a":{"dtype":"U8","shape":[1e3],"data_offsets":[0,0]}}`, nil), "shape entry 1e3 is not an integer"},
		{"string dim", raw(`{"a":{"dtype":"U8","shape":["1"],"data_offsets":[0,0]}}`, nil), "shape must hold integers"},
		{"huge dim", raw(`{"a":{"dtype":"U8","shape":[99999999999999999999],"data_offsets":[0,0]}}`, nil), "is not an integer in [0, 9223372036854775807]"},
		{"huge shape", raw(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, f32x2), "has too many elements"},
		{"huge byte size", raw(`{"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,8]}}`, f32x2), "is too large"},
		{"too many dims", raw(`{"a":{"dtype":"U8","shape":[`+strings.Repeat("1,", MaxRank)+`1],"data_offsets":[0,1]}}`, []byte{1}), "shape has more than 64 entries"},
		{"claims more than file", raw(`{"a":{"dtype":"F32","shape":[1000000000],"data_offsets":[0,4000000000]}}`, f32x2), "run past the 8-byte data section"},
		{"three offsets", raw(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}`, []byte{1, 2}), "data_offsets has more than 2 entries"},
		{"one offset", raw(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[1]}}`, []byte{1}), "data_offsets must be [begin, end], got 1 numbers"},
		{"begin after end", raw(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[2,1]}}`, []byte{1, 2}), "begin after they end"},
		{"span mismatch", raw(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, f32x2[:4]), "span 4 bytes, shape [2] of F32 needs 8"},
		{"overlap", raw(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32x2), `tensor "b" (bytes 4 to 8) overlaps tensor "a" (ending at 8)`},
		{"same range", raw(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32x2), `overlaps tensor "a"`},
		{"empty inside another", raw(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}`, f32x2), `tensor "b" (bytes 4 to 4) overlaps`},
		{"hole", raw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32x2), "hole in the data section: bytes 0 to 4"},
		{"uncovered tail", raw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32x2), "the data section has 8 bytes but the tensors cover 4"},
		{"data without tensors", raw(`{}`, []byte{1}), "the data section has 1 bytes but the tensors cover 0"},
		{"sub-byte dtype", raw(`{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,1]}}`, []byte{1}), "does not fit in whole bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := readBytes(tc.file)
			require.Nil(t, f)
			require.ErrorIs(t, err, ErrInvalid)
			require.ErrorContains(t, err, tc.msg)
		})
	}
}

func TestReadLenient(t *testing.T) {
	// What the reference implementation accepts, Read accepts too.
	tests := []struct {
		name string
		file []byte
	}{
		{"padding spaces", raw(`{}      `, nil)},
		{"whitespace padding", raw("{ \"a\" : {\"dtype\":\"U8\", \"shape\":[1], \"data_offsets\":[0,1]} }\n\t ", []byte{9})},
		{"unknown keys skipped", raw(`{"a":{"extra":{"x":[1,{}]},"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{9})},
		{"null metadata", raw(`{"__metadata__":null,"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{9})},
		{"offsets out of name order", raw(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{8, 9})},
		{"shared empty offsets", raw(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[1,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"c":{"dtype":"F64","shape":[0,3],"data_offsets":[1,1]}}`, []byte{9})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := readBytes(tc.file)
			require.NoError(t, err)
			_, err = f.Tensors()
			require.NoError(t, err)
		})
	}
}

func TestTensorErrors(t *testing.T) {
	file := raw(`{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"u":{"dtype":"U8","shape":[1],"data_offsets":[4,5]}}`, []byte{0, 60, 0, 60, 7})
	f, err := readBytes(file)
	require.NoError(t, err)
	require.Equal(t, []string{"h", "u"}, f.Names())

	info, ok := f.Info("h")
	require.True(t, ok)
	require.Equal(t, "F16", info.Code)
	require.False(t, info.DType.Valid())
	require.Equal(t, []int{2}, info.Shape)
	require.Equal(t, 2, info.Numel())

	_, err = f.Tensor("h")
	require.ErrorIs(t, err, ErrUnsupportedDType)
	require.ErrorContains(t, err, `tensor "h" has dtype F16 (nabla supports F32, F64, I64, BOOL, U8)`)

	_, err = f.Tensors()
	require.ErrorIs(t, err, ErrUnsupportedDType)

	_, err = f.Tensor("nope")
	require.ErrorIs(t, err, ErrNotFound)
	require.ErrorContains(t, err, `"nope"`)
	_, ok = f.Info("nope")
	require.False(t, ok)

	u, err := f.Tensor("u")
	require.NoError(t, err)
	require.Equal(t, []byte{7}, u.Data)
}

func TestBoolNormalised(t *testing.T) {
	f, err := readBytes(raw(`{"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}}`, []byte{0, 1, 200}))
	require.NoError(t, err)
	m, err := f.Tensor("m")
	require.NoError(t, err)
	require.Equal(t, []byte{0, 1, 1}, m.Data)
}

func TestReadShortReader(t *testing.T) {
	b := writeBytes(t, sampleTensors(), nil)
	// The caller claims more bytes than the reader holds.
	_, err := Read(bytes.NewReader(b[:len(b)-1]), int64(len(b)))
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.ErrorContains(t, err, "shorter than the stated size")
	// A truncated file (honest size) fails validation.
	_, err = readBytes(b[:len(b)-1])
	require.ErrorIs(t, err, ErrInvalid)
	// Truncated inside the header.
	_, err = readBytes(b[:20])
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorContains(t, err, "exceeds the 12 bytes that follow it")
}

func TestCodeOf(t *testing.T) {
	for dt, want := range map[device.DType]string{device.Float32: "F32", device.Float64: "F64", device.Int64: "I64", device.Bool: "BOOL", device.Uint8: "U8"} {
		got, err := CodeOf(dt)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	_, err := CodeOf(device.DType(200))
	require.ErrorIs(t, err, ErrUnsupportedDType)
}

func TestReadFileAndWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	tensors := sampleTensors()
	require.NoError(t, WriteFile(path, tensors, map[string]string{"format": "pt"}))

	f, err := ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"format": "pt"}, f.Metadata())
	w, err := f.Tensor("weight")
	require.NoError(t, err)
	require.Equal(t, tensors[0].Data, w.Data)
	require.NoError(t, f.Close())
	require.NoError(t, f.Close(), "Close twice is harmless")

	_, err = ReadFile(filepath.Join(dir, "missing.safetensors"))
	require.ErrorIs(t, err, os.ErrNotExist)

	_, err = ReadFile(dir)
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorContains(t, err, "not a regular file")

	bad := filepath.Join(dir, "bad.safetensors")
	require.NoError(t, os.WriteFile(bad, []byte("not a safetensors file"), 0o644))
	_, err = ReadFile(bad)
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorContains(t, err, bad)

	// WriteFile validates before touching the file.
	err = WriteFile(path, []Tensor{{Name: "x", DType: device.Float32, Shape: []int{2}}}, nil)
	require.ErrorIs(t, err, ErrInvalidTensor)
	f, err = ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, len(tensors), f.Len())
	require.NoError(t, f.Close())
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	listDir := func() []string {
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}

	require.NoError(t, WriteFileAtomic(path, func(w io.Writer) error {
		_, err := io.WriteString(w, "first")
		return err
	}))
	require.NoError(t, os.Chmod(path, 0o600))

	// A failing write leaves the old file untouched and no temporary file.
	boom := errors.New("boom")
	err := WriteFileAtomic(path, func(w io.Writer) error {
		_, _ = io.WriteString(w, strings.Repeat("partial", 1<<18))
		return boom
	})
	require.ErrorIs(t, err, boom)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "first", string(got))
	require.Equal(t, []string{"ckpt.safetensors"}, listDir())

	// So does a panicking one.
	require.Panics(t, func() {
		_ = WriteFileAtomic(path, func(w io.Writer) error { panic("crash") })
	})
	got, err = os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "first", string(got))
	require.Equal(t, []string{"ckpt.safetensors"}, listDir())

	// A successful write replaces the file and keeps its permissions.
	require.NoError(t, WriteFileAtomic(path, func(w io.Writer) error {
		_, err := io.WriteString(w, "second")
		return err
	}))
	got, err = os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "second", string(got))
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	require.Equal(t, []string{"ckpt.safetensors"}, listDir())

	// A directory in the way, or a missing directory, is an error.
	require.ErrorContains(t, WriteFileAtomic(dir, func(io.Writer) error { return nil }), "not a regular file")
	require.ErrorIs(t, WriteFileAtomic(filepath.Join(dir, "no", "such"), func(io.Writer) error { return nil }), os.ErrNotExist)
}

func TestWriteFileAtomicRelative(t *testing.T) {
	t.Chdir(t.TempDir())
	require.NoError(t, WriteFile("m.safetensors", sampleTensors(), nil))
	f, err := ReadFile("m.safetensors")
	require.NoError(t, err)
	require.Equal(t, len(sampleTensors()), f.Len())
	require.NoError(t, f.Close())
}

func TestReadDataAndChunks(t *testing.T) {
	data := writeBytesNoT([]Tensor{
		{Name: "b", DType: device.Bool, Shape: []int{3}, Data: []byte{0, 1, 1}},
		{Name: "f", DType: device.Float32, Shape: []int{2}, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
	}, nil)
	// A file writer other than ours may store true as any nonzero byte.
	data[len(data)-9] = 7
	f, err := Read(bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)

	dst := make([]byte, 3)
	require.NoError(t, f.ReadData("b", dst))
	require.Equal(t, []byte{0, 1, 1}, dst, "bools are normalised")
	require.ErrorContains(t, f.ReadData("f", make([]byte, 7)), "the destination has 7 bytes, the tensor 8")
	require.ErrorIs(t, f.ReadData("nope", nil), ErrNotFound)

	var got [][]byte
	require.NoError(t, f.ReadChunks("f", make([]byte, 3), func(c []byte) error {
		got = append(got, append([]byte(nil), c...))
		return nil
	}))
	require.Equal(t, [][]byte{{1, 2, 3}, {4, 5, 6}, {7, 8}}, got)
	stop := errors.New("stop")
	require.ErrorIs(t, f.ReadChunks("f", make([]byte, 3), func([]byte) error { return stop }), stop)
	require.Error(t, f.ReadChunks("f", nil, func([]byte) error { return nil }))
}

// TestWriteFileAtomicRemovesLeftovers plays a save killed before its
// rename (kill -9 left a 0-byte temporary file in 2 of 40 trials): the
// next save to the same place removes what such saves left, and nothing
// else.
func TestWriteFileAtomicRemovesLeftovers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	leftovers := []string{".ckpt.safetensors.tmp-123", ".ckpt.safetensors.tmp-4294967295"}
	others := []string{
		".ckpt.safetensors.tmp-",      // no digits: not os.CreateTemp's
		".ckpt.safetensors.tmp-12x",   // not digits
		".model.safetensors.tmp-123",  // another file's
		"ckpt.safetensors.tmp-123",    // not hidden
		".ckpt.safetensors.tmp-9.bak", // a name someone chose
	}
	for _, name := range append(slices.Clone(leftovers), others...) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), nil, 0o644))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, ".ckpt.safetensors.tmp-77"), 0o755)) // a directory stays

	require.NoError(t, WriteFileAtomic(path, func(w io.Writer) error { _, err := w.Write([]byte("new")); return err }))
	var names []string
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := append(slices.Clone(others), "ckpt.safetensors", ".ckpt.safetensors.tmp-77")
	require.ElementsMatch(t, want, names)
}
