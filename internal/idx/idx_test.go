package idx

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// header builds the magic number and dimensions of an IDX file.
func header(t Type, dims ...uint32) []byte {
	b := []byte{0, 0, byte(t), byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func TestReadTypes(t *testing.T) {
	be16 := binary.BigEndian.AppendUint16
	be32 := binary.BigEndian.AppendUint32
	be64 := binary.BigEndian.AppendUint64
	tests := []struct {
		name   string
		input  []byte
		typ    Type
		dims   []int
		ints   []int64 // nil for float types
		floats []float64
	}{
		{"ubyte labels", cat(header(Ubyte, 4), []byte{7, 2, 1, 255}), Ubyte, []int{4}, []int64{7, 2, 1, 255}, []float64{7, 2, 1, 255}},
		{"ubyte images", cat(header(Ubyte, 2, 2, 3), []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}), Ubyte, []int{2, 2, 3},
			[]int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{"sbyte", cat(header(Sbyte, 3), []byte{0x80, 0xff, 0x7f}), Sbyte, []int{3}, []int64{-128, -1, 127}, []float64{-128, -1, 127}},
		{"short", cat(header(Short, 2), be16(be16(nil, 0x8000), 0x1234)), Short, []int{2}, []int64{-32768, 0x1234}, []float64{-32768, 0x1234}},
		{"int", cat(header(Int, 1, 2), be32(be32(nil, 0xffffffff), 1<<30)), Int, []int{1, 2}, []int64{-1, 1 << 30}, []float64{-1, 1 << 30}},
		{"float", cat(header(Float, 2), be32(be32(nil, math.Float32bits(1.5)), math.Float32bits(-0.25))), Float, []int{2}, nil, []float64{1.5, -0.25}},
		{"double", cat(header(Double, 1), be64(nil, math.Float64bits(math.Pi))), Double, []int{1}, nil, []float64{math.Pi}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Read(bytes.NewReader(tc.input))
			require.NoError(t, err)
			require.Equal(t, tc.typ, f.Type)
			require.Equal(t, tc.dims, f.Dims)
			require.Equal(t, len(tc.floats), f.Numel())
			require.Equal(t, tc.floats, f.Float64s())
			f32 := make([]float32, len(tc.floats))
			for i, v := range tc.floats {
				f32[i] = float32(v)
			}
			require.Equal(t, f32, f.Float32s())
			ints, err := f.Int64s()
			if tc.ints == nil {
				require.ErrorIs(t, err, ErrType)
				require.ErrorContains(t, err, "Int64s needs integer data, the file holds "+tc.typ.String())
			} else {
				require.NoError(t, err)
				require.Equal(t, tc.ints, ints)
			}
			u8, err := f.Uint8s()
			if tc.typ == Ubyte {
				require.NoError(t, err)
				require.Equal(t, tc.input[len(tc.input)-len(u8):], u8)
			} else {
				require.ErrorIs(t, err, ErrType)
			}

			// Write gives back the same bytes.
			var buf bytes.Buffer
			require.NoError(t, Write(&buf, f))
			require.Equal(t, tc.input, buf.Bytes())
		})
	}
}

func TestTypeNames(t *testing.T) {
	for typ, want := range map[Type]string{Ubyte: "ubyte", Sbyte: "sbyte", Short: "short", Int: "int", Float: "float", Double: "double", 0x0A: "type(0x0a)"} {
		require.Equal(t, want, typ.String())
	}
	require.False(t, Type(0x0A).Valid())
	require.Equal(t, 0, Type(0).Size())
}

func TestReadHostile(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
		err   error
		msg   string
	}{
		{"empty", nil, ErrInvalid, "empty input"},
		{"short magic", []byte{0, 0, 8}, io.ErrUnexpectedEOF, "3 bytes, too short for the 4-byte magic number"},
		{"bad magic", []byte("PK\x03\x04rest"), ErrInvalid, "bad magic number 0x50 0x4b 0x03 0x04"},
		{"gzip to Read", []byte{0x1f, 0x8b, 8, 0, 0}, ErrInvalid, "gzip-compressed; use ReadFile"},
		{"unknown type", []byte{0, 0, 0x0A, 1, 0, 0, 0, 1, 0}, ErrInvalid, "unknown data type code 0x0a"},
		{"zero dims", []byte{0, 0, 8, 0}, ErrInvalid, "0 dimensions, want 1 to 8"},
		{"nine dims", cat(header(Ubyte, 1, 1, 1, 1, 1, 1, 1, 1, 1), []byte{1}), ErrInvalid, "9 dimensions, want 1 to 8"},
		{"255 dims", []byte{0, 0, 8, 255}, ErrInvalid, "255 dimensions"},
		{"truncated dims", header(Ubyte, 3, 28, 28)[:10], io.ErrUnexpectedEOF, "the input ends inside the 3 dimensions"},
		{"zero dim", header(Ubyte, 10, 0), ErrInvalid, "dimensions [10 0]: each must be 1 to 4294967295"},
		{"overflowing dims", header(Double, math.MaxUint32, math.MaxUint32, math.MaxUint32, math.MaxUint32), ErrInvalid, "need more than the 17179869184-byte limit"},
		{"over the cap", header(Ubyte, 1<<17, 1<<17+1), ErrInvalid, "need more than the 17179869184-byte limit"},
		{"truncated data", cat(header(Ubyte, 2, 28, 28), make([]byte, 1000)), io.ErrUnexpectedEOF, "truncated data: dimensions [2 28 28] of ubyte need 1568 bytes, got 1000"},
		{"no data", header(Float, 3), io.ErrUnexpectedEOF, "need 12 bytes, got 0"},
		{"huge claim", cat(header(Ubyte, 60000, 28, 28), make([]byte, 784)), io.ErrUnexpectedEOF, "need 47040000 bytes, got 784"},
		{"trailing garbage", cat(header(Ubyte, 2), []byte{1, 2, 3}), ErrInvalid, "trailing data after the 2 data bytes of dimensions [2] of ubyte"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A *bytes.Reader tells its length, which the header is checked
			// against; the MultiReader hides it.
			for _, r := range []io.Reader{bytes.NewReader(tc.input), io.MultiReader(bytes.NewReader(tc.input))} {
				f, err := Read(r)
				require.Nil(t, f)
				require.ErrorIs(t, err, tc.err)
				require.ErrorIs(t, err, ErrInvalid)
				require.ErrorContains(t, err, tc.msg)
			}
		})
	}
}

func TestReadHugeClaimDoesNotAllocate(t *testing.T) {
	input := cat(header(Double, 1<<20, 1<<10), make([]byte, 100)) // claims 8 GiB
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Read(io.MultiReader(bytes.NewReader(input))) // a stream of unknown length
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4<<20))
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestReadIOErrors(t *testing.T) {
	fire := errors.New("device on fire")
	_, err := Read(errReader{fire})
	require.ErrorIs(t, err, fire)
	_, err = Read(io.MultiReader(bytes.NewReader(header(Ubyte, 1, 2)[:6]), errReader{fire}))
	require.ErrorIs(t, err, fire)
	_, err = Read(io.MultiReader(bytes.NewReader(header(Ubyte, 2)), errReader{fire}))
	require.ErrorIs(t, err, fire)
	require.ErrorContains(t, err, "idx: reading the data")
	_, err = Read(io.MultiReader(bytes.NewReader(cat(header(Ubyte, 2), []byte{1, 2})), errReader{fire}))
	require.ErrorIs(t, err, fire)
	require.ErrorContains(t, err, "idx: after the data")
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name string
		f    *File
		msg  string
	}{
		{"bad type", &File{Type: 3, Dims: []int{1}, Data: []byte{1}}, "unknown type type(0x03)"},
		{"no dims", &File{Type: Ubyte, Data: []byte{1}}, "0 dimensions, want 1 to 8"},
		{"zero dim", &File{Type: Ubyte, Dims: []int{0}}, "each must be 1 to"},
		{"negative dim", &File{Type: Ubyte, Dims: []int{-1}}, "each must be 1 to"},
		{"short data", &File{Type: Short, Dims: []int{2, 2}, Data: make([]byte, 7)}, "need 8 bytes, data has 7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tc.f)
			require.ErrorIs(t, err, ErrInvalidFile)
			require.ErrorContains(t, err, tc.msg)
			require.Zero(t, buf.Len())
		})
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	images := &File{Type: Ubyte, Dims: []int{3, 2, 2}, Data: []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}}
	raw := cat(header(Ubyte, 3, 2, 2), images.Data)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}

	for _, p := range []string{
		write("plain-idx3-ubyte", raw),
		write("plain-but-named.gz", raw),                             // already decompressed
		write("compressed-idx3-ubyte.gz", gz(t, raw)),                // the usual download
		write("compressed-without-suffix", gz(t, raw)),               // recognised by its magic
		write("two-members.gz", cat(gz(t, raw[:7]), gz(t, raw[7:]))), // concatenated gzip members
	} {
		f, err := ReadFile(p)
		require.NoError(t, err, p)
		require.Equal(t, images, f, p)
	}

	// WriteFile round trip, compressed by name.
	for _, name := range []string{"w-idx3-ubyte", "w-idx3-ubyte.gz"} {
		p := filepath.Join(dir, name)
		require.NoError(t, WriteFile(p, images))
		f, err := ReadFile(p)
		require.NoError(t, err)
		require.Equal(t, images, f)
	}
	b, err := os.ReadFile(filepath.Join(dir, "w-idx3-ubyte.gz"))
	require.NoError(t, err)
	require.Equal(t, []byte{0x1f, 0x8b}, b[:2])
	require.ErrorIs(t, WriteFile(filepath.Join(dir, "bad"), &File{Type: Ubyte}), ErrInvalidFile)
	require.ErrorIs(t, WriteFile(filepath.Join(dir, "no", "dir"), images), os.ErrNotExist)

	tests := []struct {
		name  string
		input []byte
		err   error
		msg   string
	}{
		{"truncated plain", raw[:len(raw)-2], io.ErrUnexpectedEOF, "truncated data: dimensions [3 2 2] of ubyte need 12 bytes, the file has 10"},
		{"trailing plain", cat(raw, []byte{0, 0, 0}), ErrInvalid, "3 bytes of trailing data after the 12 data bytes"},
		{"truncated gzip data", gz(t, raw[:len(raw)-2]), io.ErrUnexpectedEOF, "need 12 bytes, got 10"},
		{"trailing gzip data", gz(t, cat(raw, []byte{1})), ErrInvalid, "trailing data after the 12 data bytes"},
		{"cut gzip stream", gz(t, raw)[:30], io.ErrUnexpectedEOF, ""},
		{"bad gzip checksum", func() []byte { b := gz(t, raw); b[len(b)-6] ^= 0xff; return b }(), gzip.ErrChecksum, "idx: after the data"},
		{"bad gzip header", []byte{0x1f, 0x8b, 0, 0}, io.ErrUnexpectedEOF, "idx: gzip"},
		{"empty file", nil, ErrInvalid, "empty input"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := write(tc.name, tc.input)
			f, err := ReadFile(p)
			require.Nil(t, f)
			require.ErrorIs(t, err, tc.err)
			require.ErrorContains(t, err, tc.msg)
			require.ErrorContains(t, err, p)
		})
	}

	_, err = ReadFile(filepath.Join(dir, "missing"))
	require.ErrorIs(t, err, os.ErrNotExist)
}
