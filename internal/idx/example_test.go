package idx_test

import (
	"bytes"
	"fmt"

	"github.com/nabla-go/nabla/internal/idx"
)

func Example() {
	// Two 2x3 "images" and their labels, as MNIST stores them.
	var images, labels bytes.Buffer
	err := idx.Write(&images, &idx.File{Type: idx.Ubyte, Dims: []int{2, 2, 3}, Data: []byte{
		0, 128, 255, 0, 128, 255,
		9, 8, 7, 6, 5, 4,
	}})
	if err != nil {
		panic(err)
	}
	if err := idx.Write(&labels, &idx.File{Type: idx.Ubyte, Dims: []int{2}, Data: []byte{5, 0}}); err != nil {
		panic(err)
	}

	img, err := idx.Read(&images)
	if err != nil {
		panic(err)
	}
	lab, err := idx.Read(&labels)
	if err != nil {
		panic(err)
	}
	pixels, _ := img.Uint8s()
	classes, _ := lab.Int64s()
	fmt.Println(img.Type, img.Dims, pixels[:3], img.Float32s()[1]/255)
	fmt.Println(lab.Type, lab.Dims, classes)

	// A truncated file is an error, not a panic.
	_, err = idx.Read(bytes.NewReader([]byte{0, 0, 0x08, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3}))
	fmt.Println(err)
	// Output:
	// ubyte [2 2 3] [0 128 255] 0.5019608
	// ubyte [2] [5 0]
	// idx: invalid file: unexpected EOF: truncated data: dimensions [60000 28 28] of ubyte need 47040000 bytes, got 3
}
