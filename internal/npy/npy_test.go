package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
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

func arangeF32(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i)
	}
	return v
}

// file builds a version-1.0 .npy file around a header dict, padded with
// spaces and a newline to 64 bytes.
func file(dict string, data []byte) []byte {
	n := len(dict) + 1
	n += (64 - (10+n)%64) % 64
	h := dict + strings.Repeat(" ", n-1-len(dict)) + "\n"
	b := append([]byte(Magic), 1, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(h)))
	b = append(b, h...)
	return append(b, data...)
}

// Files written by NumPy 1.24 (np.lib.format.write_array).
var numpyFiles = map[string]string{
	"f4":            "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + strings.Repeat(" ", 58) + "\x0a\x00\x00\x00\x00\x00\x00\x80?\x00\x00\x00@\x00\x00@@\x00\x00\x80@\x00\x00\xa0@",
	"be_f8":         "\x93NUMPY\x01\x00v\x00{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }" + strings.Repeat(" ", 60) + "\x0a?\xf8\x00\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x00",
	"fortran_i8":    "\x93NUMPY\x01\x00v\x00{'descr': '<i8', 'fortran_order': True, 'shape': (2, 3), }" + strings.Repeat(" ", 59) + "\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00",
	"bool_v2":       "\x93NUMPY\x02\x00t\x00\x00\x00{'descr': '|b1', 'fortran_order': False, 'shape': (1, 3), }" + strings.Repeat(" ", 56) + "\x0a\x01\x00\x01",
	"u1_scalar":     "\x93NUMPY\x01\x00v\x00{'descr': '|u1', 'fortran_order': False, 'shape': (), }" + strings.Repeat(" ", 62) + "\x0a\x07",
	"i4":            "\x93NUMPY\x01\x00v\x00{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }" + strings.Repeat(" ", 60) + "\x0a\x01\x00\x00\x00\x02\x00\x00\x00",
	"fortran_f4_3d": "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3, 4), }" + strings.Repeat(" ", 56) + "\x0a\x00\x00\x00\x00\x00\x00@A\x00\x00\x80@\x00\x00\x80A\x00\x00\x00A\x00\x00\xa0A\x00\x00\x80?\x00\x00PA\x00\x00\xa0@\x00\x00\x88A\x00\x00\x10A\x00\x00\xa8A\x00\x00\x00@\x00\x00`A\x00\x00\xc0@\x00\x00\x90A\x00\x00 A\x00\x00\xb0A\x00\x00@@\x00\x00pA\x00\x00\xe0@\x00\x00\x98A\x00\x000A\x00\x00\xb8A",
}

func TestReadNumPyFiles(t *testing.T) {
	tests := []struct {
		name string
		want Array
	}{
		{"f4", Array{device.Float32, []int{2, 3}, f32bytes(0, 1, 2, 3, 4, 5)}},
		{"be_f8", Array{device.Float64, []int{2}, f64bytes(1.5, -2)}},
		{"fortran_i8", Array{device.Int64, []int{2, 3}, i64bytes(0, 1, 2, 3, 4, 5)}},
		{"bool_v2", Array{device.Bool, []int{1, 3}, []byte{1, 0, 1}}},
		{"u1_scalar", Array{device.Uint8, []int{}, []byte{7}}},
		{"fortran_f4_3d", Array{device.Float32, []int{2, 3, 4}, f32bytes(arangeF32(24)...)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Read(strings.NewReader(numpyFiles[tc.name]))
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	_, err := Read(strings.NewReader(numpyFiles["i4"]))
	require.ErrorIs(t, err, ErrUnsupportedDType)
	require.ErrorContains(t, err, `descr "<i4" (nabla supports '<f4', '<f8', '<i8', '|b1', '|u1')`)
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		a    Array
	}{
		{"f32 2x3", Array{device.Float32, []int{2, 3}, f32bytes(1, 2, 3, 4, 5, 6)}},
		{"f64 1-d", Array{device.Float64, []int{3}, f64bytes(-1, math.Inf(-1), math.MaxFloat64)}},
		{"i64 3-d", Array{device.Int64, []int{1, 2, 1}, i64bytes(math.MinInt64, 5)}},
		{"bool", Array{device.Bool, []int{4}, []byte{1, 0, 0, 1}}},
		{"u8 scalar", Array{device.Uint8, []int{}, []byte{255}}},
		{"empty", Array{device.Float32, []int{0, 3}, []byte{}}},
		{"many dims", Array{device.Uint8, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 2}, []byte{1, 2}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, Write(&buf, tc.a))
			b := buf.Bytes()
			hlen := int(binary.LittleEndian.Uint16(b[8:]))
			require.Zero(t, (10+hlen)%64, "data starts at a multiple of 64")
			require.Equal(t, byte('\n'), b[10+hlen-1])
			got, err := Read(&buf)
			require.NoError(t, err)
			require.Equal(t, tc.a, got)
			require.Zero(t, buf.Len(), "Read consumes exactly the array")
		})
	}
}

func TestWriteHeader(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, Array{device.Float32, []int{2, 3}, make([]byte, 24)}))
	dict := "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
	require.Equal(t, string(file(dict, make([]byte, 24))), buf.String())

	buf.Reset()
	require.NoError(t, Write(&buf, Array{device.Bool, []int{5}, make([]byte, 5)}))
	require.Contains(t, buf.String(), "{'descr': '|b1', 'fortran_order': False, 'shape': (5,), }")
	buf.Reset()
	require.NoError(t, Write(&buf, Array{device.Int64, nil, make([]byte, 8)}))
	require.Contains(t, buf.String(), "{'descr': '<i8', 'fortran_order': False, 'shape': (), }")
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name string
		a    Array
		msg  string
	}{
		{"bad dtype", Array{device.DType(42), []int{1}, []byte{1}}, "is not a nabla dtype"},
		{"negative dim", Array{device.Uint8, []int{-1}, nil}, "negative dimension"},
		{"overflow", Array{device.Uint8, []int{math.MaxInt, 2}, nil}, "too many elements"},
		{"too large", Array{device.Float64, []int{math.MaxInt / 4}, nil}, "is too large"},
		{"too many dims", Array{device.Uint8, make([]int, MaxRank+1), nil}, "65 dimensions, at most 64"},
		{"short data", Array{device.Float32, []int{2}, make([]byte, 7)}, "needs 8 bytes, data has 7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tc.a)
			require.ErrorIs(t, err, ErrInvalidArray)
			require.ErrorContains(t, err, tc.msg)
			require.Zero(t, buf.Len())
		})
	}
}

func TestReadHostile(t *testing.T) {
	good := "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
	v2 := func(hlen uint32, rest string) []byte {
		b := append([]byte(Magic), 2, 0)
		b = binary.LittleEndian.AppendUint32(b, hlen)
		return append(b, rest...)
	}
	tests := []struct {
		name  string
		input []byte
		err   error
		msg   string
	}{
		{"empty", nil, ErrInvalid, "empty input"},
		{"short magic", []byte("\x93NUM"), io.ErrUnexpectedEOF, "the input ends inside the magic string"},
		{"bad magic", []byte("PK\x03\x04 a zip file"), ErrInvalid, `bad magic "PK\x03\x04 a"`},
		{"version 4", append([]byte(Magic), 4, 0, 0, 0), ErrInvalid, "unsupported format version 4.0"},
		{"version 1.1", append([]byte(Magic), 1, 1, 0, 0), ErrInvalid, "unsupported format version 1.1"},
		{"short length", append([]byte(Magic), 2, 0, 1), io.ErrUnexpectedEOF, "the input ends inside the header length"},
		{"huge header length", v2(math.MaxUint32, "{"), ErrInvalid, "header length 4294967295 exceeds the 1048576-byte limit"},
		{"header past end", v2(1000, "{'descr'"), io.ErrUnexpectedEOF, "the input ends inside the header"},
		{"empty header", v2(0, ""), ErrInvalid, "want '{', got the end of the header"},
		{"not a dict", file("[1, 2]", nil), ErrInvalid, `want '{', got "[1, 2]`},
		{"missing keys", file("{'descr': '<f4'}", nil), ErrInvalid, "header lacks fortran_order, shape"},
		{"extra key", file("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}", nil), ErrInvalid, `unexpected key "x"`},
		{"duplicate key", file("{'descr': '<f4', 'descr': '<f4'}", nil), ErrInvalid, "duplicate key 'descr'"},
		{"fortran not bool", file("{'descr': '<f4', 'fortran_order': 0, 'shape': ()}", nil), ErrInvalid, `fortran_order must be True or False, got "0"`},
		{"shape not tuple", file("{'descr': '<f4', 'fortran_order': False, 'shape': [2]}", nil), ErrInvalid, `want '(', got "[2]}`},
		{"shape int in parens", file("{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", nil), ErrInvalid, "shape (2) is not a tuple; a 1-d shape is written (2,)"},
		{"negative dim", file("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", nil), ErrInvalid, `want a non-negative integer, got "-1,)}`},
		{"float dim", file("{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,)}", nil), ErrInvalid, `want ',' or ')' in shape, got ".5,)}`},
		{"huge dim", file("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", nil), ErrInvalid, "shape entry 99999999999999999999 is too large"},
		{"overflowing shape", file("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", nil), ErrInvalid, "has too many elements"},
		{"overflowing bytes", file("{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,)}", nil), ErrInvalid, "is too large"},
		{"too many dims", file("{'descr': '<f4', 'fortran_order': False, 'shape': ("+strings.Repeat("1, ", MaxRank+1)+")}", nil), ErrInvalid, "more than 64 dimensions"},
		{"newline in string", file("{'descr: 1}", nil), ErrInvalid, `unsupported character '\n' in a string`},
		{"unterminated string", v2(7, "{'descr"), ErrInvalid, "unterminated string"},
		{"escape in string", file(`{'de\scr': 1}`, nil), ErrInvalid, `unsupported character '\\'`},
		{"trailing garbage", file(good+" x", nil), ErrInvalid, `unexpected "x `},
		{"missing comma", file("{'descr': '<f4' 'shape': ()}", nil), ErrInvalid, `want ',' or '}', got "'shape': ()}`},
		{"structured dtype", file("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': ()}", nil), ErrUnsupportedDType, "structured dtypes are not supported"},
		{"object dtype", file("{'descr': '|O', 'fortran_order': False, 'shape': ()}", nil), ErrUnsupportedDType, `descr "|O"`},
		{"int32", file("{'descr': '<i4', 'fortran_order': False, 'shape': ()}", nil), ErrUnsupportedDType, `descr "<i4"`},
		{"float16", file("{'descr': '<f2', 'fortran_order': False, 'shape': ()}", nil), ErrUnsupportedDType, `descr "<f2"`},
		{"no byte order", file("{'descr': 'float32', 'fortran_order': False, 'shape': ()}", nil), ErrUnsupportedDType, `descr "float32"`},
		{"ambiguous byte order", file("{'descr': '|f4', 'fortran_order': False, 'shape': ()}", nil), ErrInvalid, `descr "|f4" has no definite byte order`},
		{"short descr", file("{'descr': '<', 'fortran_order': False, 'shape': ()}", nil), ErrInvalid, `bad descr "<"`},
		{"truncated data", file(good, make([]byte, 5)), io.ErrUnexpectedEOF, "shape [2] of <f4 needs 8 bytes of data, got 5"},
		{"no data", file(good, nil), io.ErrUnexpectedEOF, "needs 8 bytes of data, got 0"},
		{"huge claim", file("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000)}", make([]byte, 8)), io.ErrUnexpectedEOF, "needs 4000000000000 bytes of data, got 8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A *bytes.Reader tells its length, so the header is checked
			// against it; the MultiReader hides it, so the data's absence
			// shows only when reading it.
			for _, r := range []io.Reader{bytes.NewReader(tc.input), io.MultiReader(bytes.NewReader(tc.input))} {
				_, err := Read(r)
				require.ErrorIs(t, err, tc.err)
				require.ErrorContains(t, err, tc.msg)
				if !errors.Is(err, ErrUnsupportedDType) {
					require.ErrorIs(t, err, ErrInvalid)
				}
			}
		})
	}
}

func TestReadLenientHeaders(t *testing.T) {
	tests := []struct {
		name string
		dict string
		want []int
	}{
		{"double quotes", `{"descr": "<f4", "fortran_order": False, "shape": (2,)}`, []int{2}},
		{"any key order, no trailing comma", "{'shape': (1, 2), 'fortran_order': False, 'descr': '<f4'}", []int{1, 2}},
		{"python 2 longs", "{'descr': '<f4', 'fortran_order': False, 'shape': (1L, 2L), }", []int{1, 2}},
		{"spaces and newlines", "{ 'descr' :'<f4' ,\n'fortran_order':False,'shape':( 2 , ) ,\t}", []int{2}},
		{"trailing comma in shape", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2,), }", []int{1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Read(bytes.NewReader(file(tc.dict, make([]byte, 8))))
			require.NoError(t, err)
			require.Equal(t, tc.want, a.Shape)
		})
	}
}

func TestReadHugeClaimDoesNotAllocate(t *testing.T) {
	input := file("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,)}", make([]byte, 100))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Read(bytes.NewReader(input))
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4<<20))
}

func TestReadStream(t *testing.T) {
	// Arrays written one after the other read back in turn.
	var buf bytes.Buffer
	arrays := []Array{
		{device.Float32, []int{2}, f32bytes(1, 2)},
		{device.Uint8, []int{3}, []byte{4, 5, 6}},
		{device.Int64, []int{}, i64bytes(7)},
	}
	for _, a := range arrays {
		require.NoError(t, Write(&buf, a))
	}
	for _, want := range arrays {
		got, err := Read(&buf)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	_, err := Read(&buf)
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorContains(t, err, "empty input")
}

func TestBoolNormalised(t *testing.T) {
	a, err := Read(bytes.NewReader(file("{'descr': '|b1', 'fortran_order': False, 'shape': (3,)}", []byte{0, 2, 255})))
	require.NoError(t, err)
	require.Equal(t, []byte{0, 1, 1}, a.Data)
}

// TestFortranScatter reads Fortran-order data, which ReadData scatters to
// its C positions chunk by chunk; tiny chunks put element and chunk
// boundaries everywhere.
func TestFortranScatter(t *testing.T) {
	// 2x3x4 in Fortran order: element (i, j, k) at i + 2j + 6k.
	f := make([]byte, 24)
	want := make([]byte, 24)
	for i := range 2 {
		for j := range 3 {
			for k := range 4 {
				f[i+2*j+6*k] = byte(100*i + 10*j + k)
				want[12*i+4*j+k] = byte(100*i + 10*j + k)
			}
		}
	}
	for _, chunk := range []int{1, 5, 8, 1 << 20} {
		t.Run(fmt.Sprint(chunk), func(t *testing.T) {
			defer func(c int) { chunkSize = c }(chunkSize)
			chunkSize = chunk
			a, err := Read(bytes.NewReader(file("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3, 4), }", f)))
			require.NoError(t, err)
			require.Equal(t, want, a.Data)
			// Multi-byte elements keep their bytes together, also when
			// they are big-endian; the stream has no length here.
			a, err = Read(io.MultiReader(bytes.NewReader(file("{'descr': '>i8', 'fortran_order': True, 'shape': (2, 3), }",
				be64bytes(0, 3, 1, 4, 2, 5)))))
			require.NoError(t, err)
			require.Equal(t, i64bytes(0, 1, 2, 3, 4, 5), a.Data)
		})
	}
}

// be64bytes encodes int64s big-endian.
func be64bytes(vs ...int64) []byte {
	var out []byte
	for _, v := range vs {
		out = binary.BigEndian.AppendUint64(out, uint64(v))
	}
	return out
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("device on fire") }

func TestReadIOError(t *testing.T) {
	_, err := Read(errReader{})
	require.ErrorContains(t, err, "device on fire")
	input := file("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", nil)
	_, err = Read(io.MultiReader(bytes.NewReader(input), errReader{}))
	require.ErrorContains(t, err, "npy: reading the data: device on fire")
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.npy")
	a := Array{device.Float64, []int{2, 2}, f64bytes(1, 2, 3, 4)}
	require.NoError(t, WriteFile(path, a))
	got, err := ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, a, got)

	require.ErrorIs(t, WriteFile(path, Array{DType: device.Float32, Shape: []int{3}}), ErrInvalidArray)
	got, err = ReadFile(path)
	require.NoError(t, err, "a failed WriteFile leaves the file alone")
	require.Equal(t, a, got)

	_, err = ReadFile(filepath.Join(dir, "missing.npy"))
	require.ErrorIs(t, err, os.ErrNotExist)

	// A file too short for its header's claim fails before reading the data.
	short := filepath.Join(dir, "short.npy")
	require.NoError(t, os.WriteFile(short, file("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000,)}", make([]byte, 4)), 0o644))
	_, err = ReadFile(short)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.ErrorContains(t, err, "needs 4000000000 bytes of data, got 4")
	require.ErrorContains(t, err, short)

	// So does a header length past the end of the file.
	b := append([]byte(Magic), 2, 0)
	b = binary.LittleEndian.AppendUint32(b, 100000)
	require.NoError(t, os.WriteFile(short, append(b, '{'), 0o644))
	_, err = ReadFile(short)
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorContains(t, err, "header length 100000 exceeds the 1 bytes that follow it")
}
