// Package fashion loads Fashion-MNIST for the examples, from the first
// place that has it: the -data directory, $NABLA_DATA, Debian's
// dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist), or the
// 10,000 test images embedded in the nabla command, so that the examples
// run on any machine with Go.
package fashion

import (
	"fmt"
	"os"

	"github.com/nabla-go/nabla/cmd/nabla/embedded"
	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/tensor"
)

// Load returns a training and a test set of ([1 28 28] Float32 image,
// Int64 label) samples and a description of where they came from. With
// the full data set they are its 60,000 training and 10,000 test images;
// with the embedded images, a random 9,000 / 1,000 split of them. dir may
// be empty.
func Load(dir string) (train, test data.Dataset, desc string, err error) {
	if dir == "" {
		dir = os.Getenv("NABLA_DATA")
	}
	if dir == "" {
		if _, err := os.Stat(data.DefaultFashionMNISTDir); err == nil {
			dir = data.DefaultFashionMNISTDir
		}
	}
	if dir != "" && dir != "embedded" {
		tr, err := data.FashionMNIST(dir, true)
		if err != nil {
			return nil, nil, "", err
		}
		te, err := data.FashionMNIST(dir, false)
		if err != nil {
			return nil, nil, "", err
		}
		return tr, te, "Fashion-MNIST from " + dir, nil
	}
	all, err := embedded.FashionMNISTTest()
	if err != nil {
		return nil, nil, "", err
	}
	parts, err := data.RandomSplit(all, []int{9000, 1000}, tensor.NewGenerator(1))
	if err != nil {
		return nil, nil, "", err
	}
	return parts[0], parts[1], fmt.Sprintf("%s, split 9000/1000 (install Debian's dataset-fashion-mnist for all 70,000)", embedded.Name), nil
}

// First returns the first n samples of ds (all of them when n <= 0 or n
// is larger than the data set), to keep a run short.
func First(ds data.Dataset, n int) (data.Dataset, error) {
	if n <= 0 || n >= ds.Len() {
		return ds, nil
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return data.NewSubset(ds, idx)
}
