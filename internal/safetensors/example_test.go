package safetensors_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/safetensors"
)

func Example() {
	// Two float32 parameters, as raw little-endian bytes.
	weight := make([]byte, 4*6)
	for i := range 6 {
		binary.LittleEndian.PutUint32(weight[4*i:], math.Float32bits(float32(i)/2))
	}
	bias := make([]byte, 4*2)

	var buf bytes.Buffer
	err := safetensors.Write(&buf, []safetensors.Tensor{
		{Name: "0.weight", DType: device.Float32, Shape: []int{2, 3}, Data: weight},
		{Name: "0.bias", DType: device.Float32, Shape: []int{2}, Data: bias},
	}, map[string]string{"format": "pt"})
	if err != nil {
		panic(err)
	}

	f, err := safetensors.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		panic(err)
	}
	fmt.Println("metadata:", f.Metadata())
	for _, name := range f.Names() {
		info, _ := f.Info(name)
		fmt.Println(name, info.Code, info.Shape, "bytes", info.Begin, "to", info.End)
	}
	w, err := f.Tensor("0.weight")
	if err != nil {
		panic(err)
	}
	fmt.Println("last weight:", math.Float32frombits(binary.LittleEndian.Uint32(w.Data[20:])))

	_, err = f.Tensor("1.weight")
	fmt.Println(err)
	// Output:
	// metadata: map[format:pt]
	// 0.bias F32 [2] bytes 0 to 8
	// 0.weight F32 [2 3] bytes 8 to 32
	// last weight: 2.5
	// safetensors: no such tensor: "1.weight"
}
