// Package embedded holds the 10,000-image test split of Fashion-MNIST
// (Zalando Research, MIT licence; see README.md in this directory),
// compiled into the binary so that the nabla command and the examples
// train on real data on a machine that has nothing but Go.
package embedded

import (
	"bytes"
	_ "embed"

	"github.com/nabla-go/nabla/data"
)

//go:embed t10k-images-idx3-ubyte.gz
var testImages []byte

//go:embed t10k-labels-idx1-ubyte.gz
var testLabels []byte

// Size is the number of images in the embedded data set.
const Size = 10000

// Name describes the embedded data set in messages.
const Name = "the embedded Fashion-MNIST test split (10,000 images)"

// FashionMNISTTest returns the embedded Fashion-MNIST test split: 10,000
// samples of ([1 28 28] Float32 in [0, 1], Int64 label) with the class
// names of data.FashionMNISTClasses.
func FashionMNISTTest() (*data.ImageDataset, error) {
	return data.MNISTFromReaders(bytes.NewReader(testImages), bytes.NewReader(testLabels), data.FashionMNISTClasses[:])
}

// Files returns the gzip-compressed IDX files by their names in the
// original distribution (t10k-images-idx3-ubyte.gz,
// t10k-labels-idx1-ubyte.gz), for programs that hand them to another
// tool. The slices must not be modified.
func Files() map[string][]byte {
	return map[string][]byte{
		"t10k-images-idx3-ubyte.gz": testImages,
		"t10k-labels-idx1-ubyte.gz": testLabels,
	}
}
