package models

import (
	"syscall"
	"testing"
	"time"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

// benchmarkStep times one training step (forward, cross-entropy, backward,
// Adam) of model on a fixed random batch of batch 1×28×28 images, the
// unit of the nabla bench command's training epochs.
func benchmarkStep(b *testing.B, model nn.Module, batch int) {
	tensor.ManualSeed(1)
	g := tensor.NewGenerator(3)
	opts := tensor.Options{}.WithGenerator(g)
	x := autograd.Const(opts.Rand(batch, 1, 28, 28))
	y := autograd.Const(opts.RandInt(0, 10, batch))
	opt := optim.Adam(model.Parameters(), 1e-3)
	lossFn := nn.CrossEntropyLoss()
	model.Train()
	step := func() {
		opt.ZeroGrad()
		loss := lossFn(model.Forward(x), y)
		loss.Backward()
		opt.Step()
	}
	step() // warm the allocator's pools and the GEMM's buffers
	start := cpuTime(b)
	for b.Loop() {
		step()
	}
	// The process's CPU time per step, beside the wall time, because on a
	// shared machine the wall time also counts the waits for a core.
	b.ReportMetric(float64((cpuTime(b)-start).Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "images/s")
}

// cpuTime returns the user and system time the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCNNStep is one training step of CNN at the bench command's
// default batch size.
func BenchmarkCNNStep(b *testing.B) { benchmarkStep(b, CNN(0), 64) }

// BenchmarkCNNStep512 is the same at batch 512, where the per-image work
// dominates the per-call overheads.
func BenchmarkCNNStep512(b *testing.B) { benchmarkStep(b, CNN(0), 512) }
