package safetensors

import (
	"bytes"
	"testing"
)

func FuzzRead(f *testing.F) {
	f.Add(writeBytesNoT(sampleTensors(), map[string]string{"format": "pt"}))
	f.Add(writeBytesNoT(sampleTensors()[:2], nil))
	f.Add(writeBytesNoT(nil, nil))
	f.Add(raw(`{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"u":{"dtype":"U8","shape":[1],"data_offsets":[4,5]}}`, []byte{0, 60, 0, 60, 7}))
	f.Add(raw(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[1,1]},"b":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}`, []byte{9}))
	f.Add(raw(`{"__metadata__":null,"a":{"extra":[{}],"dtype":"I64","shape":[1,1],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if file != nil {
				t.Fatal("non-nil File with an error")
			}
			return
		}
		var total int64
		var supported []Tensor
		for _, name := range file.Names() {
			info, ok := file.Info(name)
			if !ok {
				t.Fatalf("Info(%q) missing", name)
			}
			total += info.End - info.Begin
			tensor, err := file.Tensor(name)
			if !info.DType.Valid() {
				if err == nil {
					t.Fatalf("tensor %q of dtype %s read without error", name, info.Code)
				}
				continue
			}
			if err != nil {
				t.Fatalf("Tensor(%q): %v", name, err)
			}
			if int64(len(tensor.Data)) != int64(info.Numel())*int64(tensor.DType.Size()) {
				t.Fatalf("tensor %q: %d bytes for shape %v", name, len(tensor.Data), tensor.Shape)
			}
			// The two ways of reading into the caller's memory give the
			// same bytes: at once, and in chunks of a few bytes.
			direct := make([]byte, len(tensor.Data))
			if err := file.ReadData(name, direct); err != nil || !bytes.Equal(direct, tensor.Data) {
				t.Fatalf("ReadData(%q) differs from Tensor: %v", name, err)
			}
			var chunks []byte
			if err := file.ReadChunks(name, make([]byte, 3), func(c []byte) error { chunks = append(chunks, c...); return nil }); err != nil ||
				!bytes.Equal(chunks, tensor.Data) {
				t.Fatalf("ReadChunks(%q) differs from Tensor: %v", name, err)
			}
			supported = append(supported, tensor)
		}
		if total > int64(len(b)) {
			t.Fatalf("tensors claim %d bytes of a %d-byte file", total, len(b))
		}
		// What was read writes and reads back to the same tensors.
		var buf bytes.Buffer
		if err := Write(&buf, supported, file.Metadata()); err != nil {
			t.Fatalf("rewrite: %v", err)
		}
		again, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatalf("reread: %v", err)
		}
		for _, want := range supported {
			got, err := again.Tensor(want.Name)
			if err != nil || !bytes.Equal(got.Data, want.Data) || got.DType != want.DType {
				t.Fatalf("tensor %q changed in a round trip: %v", want.Name, err)
			}
		}
	})
}

func writeBytesNoT(tensors []Tensor, meta map[string]string) []byte {
	var buf bytes.Buffer
	if err := Write(&buf, tensors, meta); err != nil {
		panic(err)
	}
	return buf.Bytes()
}
