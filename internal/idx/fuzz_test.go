package idx

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"testing"
)

func FuzzRead(f *testing.F) {
	f.Add(cat(header(Ubyte, 2, 2, 3), []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}))
	f.Add(cat(header(Ubyte, 4), []byte{7, 2, 1, 0}))
	f.Add(cat(header(Sbyte, 2), []byte{0x80, 1}))
	f.Add(cat(header(Short, 1, 1), []byte{0x80, 0}))
	f.Add(cat(header(Int, 2), make([]byte, 8)))
	f.Add(cat(header(Float, 1), binary.BigEndian.AppendUint32(nil, math.Float32bits(0.5))))
	f.Add(cat(header(Double, 1, 1, 1, 1, 1, 1, 1, 1), make([]byte, 8)))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Read(bytes.NewReader(b))
		// Without its length the input takes the other path (memory as
		// data arrives, the end found by reading): it must agree.
		again, aerr := Read(io.MultiReader(bytes.NewReader(b)))
		if (err == nil) != (aerr == nil) {
			t.Fatalf("a known length gives %v, an unknown one %v", err, aerr)
		}
		if err != nil {
			if file != nil {
				t.Fatal("non-nil File with an error")
			}
			return
		}
		if !bytes.Equal(again.Data, file.Data) {
			t.Fatal("the stream read differs")
		}
		if len(file.Data) != file.Numel()*file.Type.Size() {
			t.Fatalf("%d data bytes for dims %v of %v", len(file.Data), file.Dims, file.Type)
		}
		if n := len(file.Float64s()); n != file.Numel() {
			t.Fatalf("Float64s gave %d of %d elements", n, file.Numel())
		}
		if n := len(file.Float32s()); n != file.Numel() {
			t.Fatalf("Float32s gave %d of %d elements", n, file.Numel())
		}
		if ints, err := file.Int64s(); err == nil && len(ints) != file.Numel() {
			t.Fatalf("Int64s gave %d of %d elements", len(ints), file.Numel())
		}
		// The format is canonical: writing what was read gives the input.
		var buf bytes.Buffer
		if err := Write(&buf, file); err != nil {
			t.Fatalf("rewrite: %v", err)
		}
		if !bytes.Equal(buf.Bytes(), b) {
			t.Fatalf("rewrite differs from the input")
		}
	})
}
