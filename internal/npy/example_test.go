package npy_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/npy"
)

func Example() {
	data := make([]byte, 4*6)
	for i := range 6 {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(float32(i)))
	}
	var buf bytes.Buffer
	if err := npy.Write(&buf, npy.Array{DType: device.Float32, Shape: []int{2, 3}, Data: data}); err != nil {
		panic(err)
	}
	file := bytes.Clone(buf.Bytes())
	fmt.Printf("%q\n", bytes.TrimRight(file[10:128], " \n"))

	a, err := npy.Read(&buf)
	if err != nil {
		panic(err)
	}
	fmt.Println(a.DType, a.Shape, a.Numel(), "elements")
	fmt.Println("last:", math.Float32frombits(binary.LittleEndian.Uint32(a.Data[20:])))

	// A truncated file is an error, not a panic.
	_, err = npy.Read(bytes.NewReader(file[:len(file)-3]))
	fmt.Println(err)
	// Output:
	// "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
	// float32 [2 3] 6 elements
	// last: 5
	// npy: invalid file: unexpected EOF: shape [2 3] of <f4 needs 24 bytes of data, got 21
}
