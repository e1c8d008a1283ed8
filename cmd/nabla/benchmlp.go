package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nabla-go/nabla/cmd/nabla/embedded"
	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/models"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

// quickMLPSamples is the size of the MLP epoch of bench -quick.
const quickMLPSamples = 2048

// mlpBench is the MLP-epoch benchmark: one epoch of training of
// models.MLP with Adam(1e-3), batch 64, on the first n images of a data
// set, timed in nabla and (from the same IDX files) in PyTorch.
type mlpBench struct {
	ds             data.Dataset
	n              int
	src            dataSource
	images, labels string // the IDX files, for PyTorch
	tmpDir         string // holds the embedded files written out for PyTorch
}

// newMLPBench loads the data: the Fashion-MNIST training set when
// resolveData finds a directory, else the embedded test split; -quick uses
// the first 2,048 embedded images.
func newMLPBench(dataFlag string, quick bool) (*mlpBench, error) {
	src := dataSource{From: "-data"}
	if !quick || dataFlag != "" {
		var err error
		if src, err = resolveData(dataFlag); err != nil {
			return nil, err
		}
	}
	b := &mlpBench{src: src}
	if src.embedded() {
		ds, err := embedded.FashionMNISTTest()
		if err != nil {
			return nil, err
		}
		b.ds = ds
		// PyTorch reads the same bytes from temporary files.
		if b.tmpDir, err = os.MkdirTemp("", "nabla-bench-"); err != nil {
			return nil, err
		}
		for name, content := range embedded.Files() {
			if err := os.WriteFile(filepath.Join(b.tmpDir, name), content, 0o644); err != nil {
				b.cleanup()
				return nil, err
			}
		}
		b.images = filepath.Join(b.tmpDir, "t10k-images-idx3-ubyte.gz")
		b.labels = filepath.Join(b.tmpDir, "t10k-labels-idx1-ubyte.gz")
	} else {
		ds, err := data.FashionMNIST(src.Dir, true)
		if err != nil {
			return nil, err
		}
		b.ds = ds
		if b.images, err = findIDX(src.Dir, "train-images-idx3-ubyte"); err != nil {
			return nil, err
		}
		if b.labels, err = findIDX(src.Dir, "train-labels-idx1-ubyte"); err != nil {
			return nil, err
		}
	}
	b.n = b.ds.Len()
	if quick && b.n > quickMLPSamples {
		b.n = quickMLPSamples
		sub, err := data.NewSubset(b.ds, seq(b.n))
		if err != nil {
			return nil, err
		}
		b.ds = sub
	}
	return b, nil
}

func (b *mlpBench) cleanup() {
	if b.tmpDir != "" {
		os.RemoveAll(b.tmpDir)
	}
}

func (b *mlpBench) describe() string {
	switch {
	case b.src.embedded() && b.src.From == "fallback":
		return fmt.Sprintf("%d images of %s (the full training set is not installed: see nabla train -help)", b.n, embedded.Name)
	case b.src.embedded():
		return fmt.Sprintf("%d images of %s", b.n, embedded.Name)
	}
	return fmt.Sprintf("%d images of the Fashion-MNIST training set in %s", b.n, b.src.Dir)
}

// run times one epoch after a short warm-up, in seconds.
func (b *mlpBench) run(dev device.Device, sync func()) (float64, error) {
	tensor.ManualSeed(1)
	model := models.MLP(0).To(dev)
	opt := optim.Adam(model.Parameters(), 1e-3)
	warm, err := data.NewSubset(b.ds, seq(min(b.n, 640)))
	if err != nil {
		return 0, err
	}
	warmLoader, err := data.NewLoader(warm, data.BatchSize(64), data.ToDevice(dev))
	if err != nil {
		return 0, err
	}
	if _, err := models.TrainEpoch(model, warmLoader, opt, nil); err != nil {
		return 0, err
	}
	loader, err := data.NewLoader(b.ds, data.BatchSize(64), data.ShuffleWith(tensor.NewGenerator(2)), data.ToDevice(dev))
	if err != nil {
		return 0, err
	}
	sync()
	start := time.Now()
	if _, err := models.TrainEpoch(model, loader, opt, nil); err != nil {
		return 0, err
	}
	sync()
	return time.Since(start).Seconds(), nil
}

// findIDX returns the path of base (or base.gz) in dir or in the
// subdirectories data.FashionMNIST also looks in.
func findIDX(dir, base string) (string, error) {
	for _, sub := range []string{"", "FashionMNIST/raw", "raw"} {
		for _, name := range []string{base + ".gz", base} {
			p := filepath.Join(dir, sub, name)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("%s (or %s.gz) not found in %s", base, base, dir)
}

// seq returns 0, 1, ..., n-1.
func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
