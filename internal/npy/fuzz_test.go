package npy

import (
	"bytes"
	"io"
	"testing"

	"github.com/nabla-go/nabla/device"
)

func FuzzRead(f *testing.F) {
	for _, s := range numpyFiles {
		f.Add([]byte(s))
	}
	for _, a := range []Array{
		{device.Float32, []int{2, 3}, f32bytes(1, 2, 3, 4, 5, 6)},
		{device.Bool, []int{2}, []byte{0, 1}},
		{device.Int64, []int{}, i64bytes(-3)},
		{device.Uint8, []int{0, 4}, nil},
	} {
		var buf bytes.Buffer
		if err := Write(&buf, a); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add(file("{'descr': '>i8', 'fortran_order': True, 'shape': (2, 1L, 2,), }", make([]byte, 32)))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Read(bytes.NewReader(b))
		// A stream that hides its length takes the other path (memory as
		// data arrives): it must agree, error for error.
		s, serr := Read(io.MultiReader(bytes.NewReader(b)))
		if (err == nil) != (serr == nil) {
			t.Fatalf("a known length gives %v, an unknown one %v", err, serr)
		}
		if err != nil {
			return
		}
		if s.DType != a.DType || !bytes.Equal(s.Data, a.Data) || len(s.Shape) != len(a.Shape) {
			t.Fatalf("the stream read differs")
		}
		if !a.DType.Valid() || len(a.Data) != a.Numel()*a.DType.Size() {
			t.Fatalf("bad array: %v %v with %d bytes", a.DType, a.Shape, len(a.Data))
		}
		if len(a.Data) > len(b) {
			t.Fatalf("%d bytes of data from a %d-byte input", len(a.Data), len(b))
		}
		// What was read writes and reads back unchanged.
		var buf bytes.Buffer
		if err := Write(&buf, a); err != nil {
			t.Fatalf("rewrite: %v", err)
		}
		again, err := Read(&buf)
		if err != nil {
			t.Fatalf("reread: %v", err)
		}
		if again.DType != a.DType || len(again.Shape) != len(a.Shape) || !bytes.Equal(again.Data, a.Data) {
			t.Fatalf("round trip changed the array")
		}
		for i := range a.Shape {
			if a.Shape[i] != again.Shape[i] {
				t.Fatalf("round trip changed the shape: %v -> %v", a.Shape, again.Shape)
			}
		}
	})
}
