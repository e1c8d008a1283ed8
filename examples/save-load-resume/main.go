// Saving, loading and resuming: a small classifier of two interleaved
// spirals is trained, saved with nn.Save (a safetensors file with
// PyTorch's key names, which safetensors.torch.load_file reads) and loaded
// into a fresh model with nn.Load; then a run is "interrupted" after two
// of four epochs, resumed from its checkpoint (optim.SaveCheckpoint: the
// model, the optimizer's state, the epoch and the random generators) and
// compared with a run that was never interrupted: the weights are the same
// bit for bit.
//
// Run it with: go run ./examples/save-load-resume [-dir DIR]
package main

import (
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

// spirals returns n points of two interleaved spirals and their labels.
func spirals(n int) (*tensor.Tensor, *tensor.Tensor) {
	xs := make([]float32, 0, 2*n)
	ys := make([]int64, 0, n)
	noise := tensor.Randn(n, 2).Mul(0.05).Float32s()
	for i := range n {
		class := i % 2
		t := float64(i/2) / float64(n/2) * 3 * math.Pi
		r := t / (3 * math.Pi)
		angle := t + float64(class)*math.Pi
		xs = append(xs, float32(r*math.Cos(angle))+noise[2*i], float32(r*math.Sin(angle))+noise[2*i+1])
		ys = append(ys, int64(class))
	}
	return tensor.FromSlice(xs, n, 2), tensor.FromSlice(ys, n)
}

// run is everything a training run holds: rebuilt from scratch for each
// run, as a new process would.
type run struct {
	model  nn.Module
	opt    optim.Optimizer
	loader *data.Loader
	gen    *tensor.Generator // the loader's shuffling generator
}

func newRun(ds data.Dataset) *run {
	tensor.ManualSeed(1) // initialisation and dropout
	model := nn.Sequential(
		nn.Linear(2, 64), nn.ReLU(), nn.Dropout(0.1),
		nn.Linear(64, 64), nn.ReLU(),
		nn.Linear(64, 2),
	)
	gen := tensor.NewGenerator(2)
	loader, err := data.NewLoader(ds, data.BatchSize(32), data.ShuffleWith(gen))
	if err != nil {
		log.Fatal(err)
	}
	return &run{model: model, opt: optim.Adam(model.Parameters(), 0.01), loader: loader, gen: gen}
}

func (r *run) epoch() float64 {
	lossFn := nn.CrossEntropyLoss()
	r.model.Train()
	var total float64
	for b, err := range r.loader.All() {
		if err != nil {
			log.Fatal(err)
		}
		r.opt.ZeroGrad()
		loss := lossFn(r.model.Forward(autograd.Const(b.X())), autograd.Const(b.Y()))
		loss.Backward()
		r.opt.Step()
		total += loss.Item()
	}
	return total / float64(r.loader.Len())
}

// weights returns the model's parameters as one slice of numbers.
func (r *run) weights() []float32 {
	var w []float32
	for _, nt := range nn.StateDict(r.model) {
		w = append(w, nt.Tensor.CPU().Float32s()...)
	}
	return w
}

func (r *run) accuracy(x, y *tensor.Tensor) float64 {
	r.model.Eval()
	defer r.model.Train()
	var acc float64
	autograd.NoGrad(func() {
		pred := r.model.Forward(autograd.Const(x)).Detach().ArgMax(1)
		acc = pred.Eq(y).As(tensor.Float32).Mean().Item()
	})
	return acc
}

func main() {
	dir := flag.String("dir", "", "where to write the files (default: a temporary directory, removed at the end)")
	epochs := flag.Int("epochs", 4, "epochs of each run (the interrupted one stops half-way)")
	flag.Parse()
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "nabla-save-load-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	} else if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatal(err)
	}

	tensor.ManualSeed(0)
	x, y := spirals(2000)
	ds, err := data.TensorDataset(x, y)
	if err != nil {
		log.Fatal(err)
	}

	// 1. Train, save the weights, load them into a new model.
	a := newRun(ds)
	for e := 1; e <= *epochs; e++ {
		fmt.Printf("epoch %d: loss %.4f\n", e, a.epoch())
	}
	fmt.Printf("accuracy %.3f\n", a.accuracy(x, y))
	modelPath := filepath.Join(*dir, "spirals.safetensors")
	if err := nn.Save(modelPath, a.model); err != nil {
		log.Fatal(err)
	}
	fresh := newRun(ds)
	fresh.model.Eval()
	before := fresh.accuracy(x, y)
	if err := nn.Load(modelPath, fresh.model); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("saved %s; a fresh model scores %.3f, %.3f after nn.Load (same weights: %v)\n",
		filepath.Base(modelPath), before, fresh.accuracy(x, y), slices.Equal(a.weights(), fresh.weights()))

	// 2. Interrupt a run half-way, resume it from its checkpoint.
	ckptPath := filepath.Join(*dir, "checkpoint.safetensors")
	half := *epochs / 2
	b := newRun(ds)
	for e := 1; e <= half; e++ {
		b.epoch()
		ckpt := optim.Checkpoint{Epoch: e, Model: b.model, Optimizer: b.opt, DataGenerator: b.gen}
		if err := optim.SaveCheckpoint(ckptPath, ckpt); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("stopped after epoch %d of %d with a checkpoint\n", half, *epochs)

	c := newRun(ds) // a new process: new model, optimizer, loader
	ckpt := optim.Checkpoint{Model: c.model, Optimizer: c.opt, DataGenerator: c.gen}
	if err := optim.LoadCheckpoint(ckptPath, &ckpt); err != nil {
		log.Fatal(err)
	}
	for e := ckpt.Epoch + 1; e <= *epochs; e++ {
		fmt.Printf("resumed epoch %d: loss %.4f\n", e, c.epoch())
	}
	fmt.Printf("resumed run == uninterrupted run, bit for bit: %v\n", slices.Equal(a.weights(), c.weights()))
}
