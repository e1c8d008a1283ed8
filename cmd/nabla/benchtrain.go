package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nabla-go/nabla/cmd/nabla/embedded"
	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/models"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

// quickTrainSamples is the size of the training epochs of bench -quick.
// It is a variable so that tests can shrink it: on two CPU cores a CNN
// epoch on 2,048 images takes seconds in each framework.
var quickTrainSamples = 2048

// The Adam learning rate of the training benchmarks (the course's recipe,
// and nabla train's default), and how the legend writes it.
const (
	trainLR     = 1e-3
	trainLRText = "1e-3"
)

// trainArch describes the models of -train for the table's legend.
var trainArch = map[string]string{
	"mlp": "784-256-128-10 perceptron",
	"cnn": "2 x (conv 3x3, ReLU, max pool 2x2) with 32 and 64 channels, then 3136-128-10",
}

// trainRun is one row of the training table: a model trained with one
// batch size.
type trainRun struct {
	Model string `json:"model"`
	Batch int    `json:"batch"`
}

// trainResult is one framework's measurement of a trainRun: the timed
// epoch and the allocator's peaks during it. HasMemory is false where the
// device keeps no allocator statistics (the CPU).
type trainResult struct {
	Seconds       float64
	Steps         int
	PeakAllocated int64
	PeakReserved  int64
	HasMemory     bool
}

// parseTrainModels reads -train: a comma-separated list of models, or
// "none" (or nothing) for no training benchmark.
func parseTrainModels(value string) ([]string, error) {
	value = strings.TrimSpace(value)
	if value == "" || value == "none" {
		return nil, nil
	}
	var names []string
	for name := range strings.SplitSeq(value, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(modelNames, name) {
			return nil, usagef("-train %q: unknown model %q (want a comma-separated list of %s, or none)", value, name, oneOf(modelNames))
		}
		if slices.Contains(names, name) {
			return nil, usagef("-train %q: %s is listed twice", value, name)
		}
		names = append(names, name)
	}
	return names, nil
}

// parseBatchSizes reads -batch: a comma-separated list of positive batch
// sizes.
func parseBatchSizes(value string) ([]int, error) {
	var sizes []int
	for field := range strings.SplitSeq(value, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 1 {
			return nil, usagef("-batch %q: %q is not a positive batch size (want a comma-separated list such as 64,512)", value, strings.TrimSpace(field))
		}
		if slices.Contains(sizes, n) {
			return nil, usagef("-batch %q: %d is listed twice", value, n)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

// trainBench holds the data of the training benchmarks: the first n
// images of a data set, trained on by nabla from memory and by PyTorch
// from the same IDX files.
type trainBench struct {
	ds             data.Dataset
	n              int
	src            dataSource
	images, labels string // the IDX files, for PyTorch
	tmpDir         string // holds the embedded files written out for PyTorch
	runs           []trainRun
}

// newTrainBench loads the data for runs: the Fashion-MNIST training set
// when resolveData finds a directory, else the embedded test split. -quick
// takes the embedded images unless -data is given, and keeps only the
// first quickTrainSamples.
func newTrainBench(dataFlag string, quick bool, runs []trainRun) (*trainBench, error) {
	src := dataSource{From: "-data"}
	if !quick || dataFlag != "" {
		var err error
		if src, err = resolveData(dataFlag); err != nil {
			return nil, err
		}
	}
	b := &trainBench{src: src, runs: runs}
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
	if quick && b.n > quickTrainSamples {
		b.n = quickTrainSamples
		sub, err := data.NewSubset(b.ds, seq(b.n))
		if err != nil {
			b.cleanup()
			return nil, err
		}
		b.ds = sub
	}
	return b, nil
}

func (b *trainBench) cleanup() {
	if b.tmpDir != "" {
		os.RemoveAll(b.tmpDir)
	}
}

// describe names the data the epochs run on.
func (b *trainBench) describe() string {
	switch {
	case b.src.embedded() && b.src.From == "fallback":
		return fmt.Sprintf("%d images of %s (the full training set is not installed: see %s train -help)", b.n, embedded.Name, self())
	case b.src.embedded():
		return fmt.Sprintf("%d images of %s", b.n, embedded.Name)
	}
	return fmt.Sprintf("%d images of the Fashion-MNIST training set in %s", b.n, b.src.Dir)
}

// run times one epoch of r on dev after a warm-up epoch over the same data,
// reading the allocator's peaks during the timed epoch where the device
// keeps them. The warm-up meets every batch shape of the timed epoch
// (kernels loaded, the allocator's cache holding blocks of every size the
// epoch asks for), and the optimizer state has aged as in a real run:
// Adam's momenta of inputs that are almost always zero decay into
// subnormal floats during the first epoch, which slowed every later epoch
// on x86 until the CPU backend flushed them (cpu.SetFlushSubnormals);
// a shorter warm-up never saw that. PyTorch gets the same warm-up.
func (b *trainBench) run(dev device.Device, be device.Backend, r trainRun) (trainResult, error) {
	if err := releaseDeviceMemory(dev, be); err != nil {
		return trainResult{}, err
	}
	tensor.ManualSeed(1)
	model, err := models.ByName(r.Model, 0)
	if err != nil {
		return trainResult{}, err
	}
	model = model.To(dev)
	opt := optim.Adam(model.Parameters(), trainLR)
	warmLoader, err := data.NewLoader(b.ds, data.BatchSize(r.Batch), data.ToDevice(dev))
	if err != nil {
		return trainResult{}, err
	}
	if _, err := models.TrainEpoch(model, warmLoader, opt, nil); err != nil {
		return trainResult{}, err
	}
	loader, err := data.NewLoader(b.ds, data.BatchSize(r.Batch), data.ShuffleWith(tensor.NewGenerator(2)), data.ToDevice(dev))
	if err != nil {
		return trainResult{}, err
	}
	if err := be.Synchronize(); err != nil {
		return trainResult{}, err
	}
	res := trainResult{Steps: loader.Len(), HasMemory: true}
	if err := device.ResetPeakMemory(dev); errors.Is(err, device.ErrNoMemoryStats) {
		res.HasMemory = false
	} else if err != nil {
		return trainResult{}, err
	}
	start := time.Now()
	if _, err := models.TrainEpoch(model, loader, opt, nil); err != nil {
		return trainResult{}, err
	}
	if err := be.Synchronize(); err != nil {
		return trainResult{}, err
	}
	res.Seconds = time.Since(start).Seconds()
	if res.HasMemory {
		st, err := device.Memory(dev)
		if err != nil {
			return trainResult{}, err
		}
		res.PeakAllocated, res.PeakReserved = st.PeakAllocated, st.PeakReserved
	}
	return res, nil
}

// releaseDeviceMemory hands what earlier rows left on dev back to the
// driver, so that every row's peak reserved memory starts from the same
// state, as torch.cuda.empty_cache() does in the PyTorch script. Device
// buffers are returned by the garbage collector's cleanups, which run in
// the background after a collection, so it collects until the allocated
// bytes stop falling, then empties the allocator's cache where the
// backend has one.
func releaseDeviceMemory(dev device.Device, be device.Backend) error {
	st, err := device.Memory(dev)
	if errors.Is(err, device.ErrNoMemoryStats) {
		runtime.GC()
		return nil
	}
	if err != nil {
		return err
	}
	for range 50 {
		runtime.GC()
		time.Sleep(2 * time.Millisecond)
		next, err := device.Memory(dev)
		if err != nil {
			return err
		}
		if next.Allocated == st.Allocated {
			break
		}
		st = next
	}
	if c, ok := be.(interface{ EmptyCache() error }); ok {
		return c.EmptyCache()
	}
	return nil
}

// writeTrainTable prints the training table: per run nabla's epoch, time
// per step, throughput and peak memory, PyTorch's (from torch, where it
// has the run) and the speed ratio, PyTorch's time over nabla's.
func writeTrainTable(w io.Writer, runs []trainRun, samples int, ours []trainResult, torch map[trainRun]trainResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\tbatch\tsteps\tnabla s/epoch\tms/step\tsamples/s\tpeak MiB\tpytorch s/epoch\tms/step\tpeak MiB\tnabla/pytorch speed\t")
	for i, r := range runs {
		o := ours[i]
		line := fmt.Sprintf("%s\t%d\t%d\t%.3f\t%.3f\t%.0f\t%s\t", r.Model, r.Batch, o.Steps,
			o.Seconds, 1e3*o.Seconds/float64(o.Steps), float64(samples)/o.Seconds, peakMiB(o))
		if t, ok := torch[r]; ok && t.Seconds > 0 {
			line += fmt.Sprintf("%.3f\t%.3f\t%s\t%.2fx\t", t.Seconds, 1e3*t.Seconds/float64(max(t.Steps, 1)), peakMiB(t), t.Seconds/o.Seconds)
		} else {
			line += "-\t-\t-\t-\t"
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// peakMiB formats a result's peak allocated and reserved memory as
// "allocated/reserved" MiB, or "-" without allocator statistics.
func peakMiB(r trainResult) string {
	if !r.HasMemory {
		return "-"
	}
	return fmt.Sprintf("%.1f/%.1f", float64(r.PeakAllocated)/(1<<20), float64(r.PeakReserved)/(1<<20))
}

// trainLegend explains the training table: the data, the models, what is
// timed and how the memory column reads.
func trainLegend(b *trainBench) string {
	var arch []string
	for _, r := range b.runs {
		if m := r.Model + " = " + trainArch[r.Model]; !slices.Contains(arch, m) {
			arch = append(arch, m)
		}
	}
	return fmt.Sprintf("Training epochs on %s:\n"+
		"  %s\n"+
		"  Adam %s, cross-entropy; a warm-up epoch (in order), then one timed epoch, shuffled;\n"+
		"  each batch copied from host memory to the device as the loop runs; the loss summed on the device, read once per epoch\n"+
		"  peak MiB: the allocator's peak allocated/reserved during the timed epoch (-: no allocator statistics on this device)\n"+
		"  speed: PyTorch's time over nabla's (> 1: nabla is faster)",
		b.describe(), strings.Join(arch, "; "), trainLRText)
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
