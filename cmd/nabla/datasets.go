package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nabla-go/nabla/cmd/nabla/embedded"
	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/tensor"
)

// dataEmbedded is the -data value that selects the embedded data set.
const dataEmbedded = "embedded"

// splitSeed seeds the random splits of the data into training, validation
// and test parts. It is fixed, not -seed, so that every run and every
// eval of a model sees the same test set.
const splitSeed = 20170825 // Fashion-MNIST's publication date

// dataSource says where the data comes from: a directory of IDX files or
// the embedded test split. It is recorded in run.json so that resume and
// eval use the same data as the run.
type dataSource struct {
	Dir string `json:"dir,omitempty"` // empty: the embedded data set
	// From says how the source was chosen: "-data", "NABLA_DATA",
	// "default" (Debian's package) or "fallback" (the embedded data, for
	// want of the others).
	From string `json:"from"`
}

func (s dataSource) embedded() bool { return s.Dir == "" }

func (s dataSource) String() string {
	if s.embedded() {
		return embedded.Name
	}
	return "Fashion-MNIST from " + s.Dir
}

// dataFiles are the files a data directory must hold (each may be gzipped).
const dataFiles = "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each may end in .gz)"

// resolveData picks the data set: -data DIR (or "embedded"), else
// $NABLA_DATA, else Debian's dataset-fashion-mnist when installed, else the
// embedded test split.
func resolveData(flagValue string) (dataSource, error) {
	if flagValue == dataEmbedded {
		return dataSource{From: "-data"}, nil
	}
	if flagValue != "" {
		if err := checkDir(flagValue); err != nil {
			return dataSource{}, usagef("-data %q: %v (want a directory holding %s, or %q for the embedded test split)", flagValue, err, dataFiles, dataEmbedded)
		}
		return dataSource{Dir: flagValue, From: "-data"}, nil
	}
	if env := os.Getenv("NABLA_DATA"); env != "" {
		if env == dataEmbedded {
			return dataSource{From: "NABLA_DATA"}, nil
		}
		if err := checkDir(env); err != nil {
			return dataSource{}, fmt.Errorf("$NABLA_DATA=%q: %v (want a directory holding %s, or %q; unset it to use the default data)", env, err, dataFiles, dataEmbedded)
		}
		return dataSource{Dir: env, From: "NABLA_DATA"}, nil
	}
	if hasFile(data.DefaultFashionMNISTDir, "train-images-idx3-ubyte") {
		return dataSource{Dir: data.DefaultFashionMNISTDir, From: "default"}, nil
	}
	return dataSource{From: "fallback"}, nil
}

func checkDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case os.IsNotExist(err):
		return fmt.Errorf("no such directory")
	case err != nil:
		return err
	case !st.IsDir():
		return fmt.Errorf("not a directory")
	}
	return nil
}

// hasFile reports whether dir holds base or base.gz.
func hasFile(dir, base string) bool {
	for _, name := range []string{base + ".gz", base} {
		if st, err := os.Stat(filepath.Join(dir, name)); err == nil && st.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// splits are the three parts of the data a run uses.
type splits struct {
	source           dataSource
	train, val, test data.Dataset
	classes          []string
}

// splitSizes records the sizes of the parts, in run.json.
type splitSizes struct {
	Train int `json:"train"`
	Val   int `json:"validation"`
	Test  int `json:"test"`
}

func (s *splits) sizes() splitSizes {
	return splitSizes{Train: s.train.Len(), Val: s.val.Len(), Test: s.test.Len()}
}

// describe says which data set is in use and how it is split.
func (s *splits) describe() string {
	z := s.sizes()
	if s.source.embedded() {
		why := ""
		if s.source.From == "fallback" {
			why = "\n  (for all 70,000 images install Debian's dataset-fashion-mnist, or point -data or $NABLA_DATA at the IDX files)"
		}
		return fmt.Sprintf("%s, split into train %d, validation %d, test %d%s", s.source, z.Train, z.Val, z.Test, why)
	}
	via := ""
	switch s.source.From {
	case "NABLA_DATA":
		via = " ($NABLA_DATA)"
	case "default":
		via = " (Debian's dataset-fashion-mnist)"
	}
	return fmt.Sprintf("%s%s: train %d, validation %d (split from the 60,000 training images), test %d", s.source, via, z.Train, z.Val, z.Test)
}

// loadSplits reads the data of src and splits it: a directory's training
// set into 90% training and 10% validation, its test set as the test set;
// the embedded 10,000 images into 80% training, 10% validation and 10%
// test. limit > 0 keeps only the first limit training samples (for quick
// runs and tests).
func loadSplits(src dataSource, limit int) (*splits, error) {
	s := &splits{source: src, classes: data.FashionMNISTClasses[:]}
	gen := tensor.NewGenerator(splitSeed)
	if src.embedded() {
		all, err := embedded.FashionMNISTTest()
		if err != nil {
			return nil, err
		}
		n := all.Len()
		parts, err := data.RandomSplit(all, []int{n - 2*(n/10), n / 10, n / 10}, gen)
		if err != nil {
			return nil, err
		}
		s.train, s.val, s.test = parts[0], parts[1], parts[2]
	} else {
		train, err := data.FashionMNIST(src.Dir, true)
		if err != nil {
			return nil, err
		}
		test, err := data.FashionMNIST(src.Dir, false)
		if err != nil {
			return nil, err
		}
		n := train.Len()
		parts, err := data.RandomSplit(train, []int{n - n/10, n / 10}, gen)
		if err != nil {
			return nil, err
		}
		s.train, s.val, s.test = parts[0], parts[1], test
	}
	if limit > 0 && limit < s.train.Len() {
		idx := make([]int, limit)
		for i := range idx {
			idx[i] = i
		}
		sub, err := data.NewSubset(s.train, idx)
		if err != nil {
			return nil, err
		}
		s.train = sub
	}
	return s, nil
}

// loadTestSet reads only the test part of src (for eval).
func loadTestSet(src dataSource) (data.Dataset, error) {
	if !src.embedded() {
		return data.FashionMNIST(src.Dir, false)
	}
	s, err := loadSplits(src, 0)
	if err != nil {
		return nil, err
	}
	return s.test, nil
}
