package data

import (
	"errors"
	"fmt"
	"iter"
	"runtime/debug"
	"sync"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/tensor"
)

// Batch is one mini-batch from a Loader.
type Batch struct {
	// Tensors holds one tensor per field of the samples, each with the
	// batch as dimension 0: for (image, label) samples, an image tensor
	// of shape [B 1 28 28] and a label tensor of shape [B].
	Tensors []*tensor.Tensor
	// Indices are the data set indices of the samples, in batch order.
	Indices []int
	// Seq is the batch's position in its epoch: 0, 1, 2, ...
	Seq int
}

// Size returns the number of samples in the batch.
func (b Batch) Size() int { return len(b.Indices) }

// X returns the batch's first tensor, by convention the inputs.
func (b Batch) X() *tensor.Tensor { return b.field("X", 0) }

// Y returns the batch's second tensor, by convention the targets.
func (b Batch) Y() *tensor.Tensor { return b.field("Y", 1) }

func (b Batch) field(name string, i int) *tensor.Tensor {
	if i >= len(b.Tensors) {
		panic(fmt.Sprintf("data: Batch.%s: the batch has %d tensor(s); its samples have no field %d", name, len(b.Tensors), i))
	}
	return b.Tensors[i]
}

// Option configures NewLoader.
type Option func(*Loader)

// BatchSize sets the number of samples per batch (default 1, as in
// PyTorch); it must be positive.
func BatchSize(n int) Option { return func(l *Loader) { l.batchSize = n } }

// Shuffle makes the loader visit the samples in a new random order every
// epoch, drawn from the default generator (see tensor.ManualSeed) as
// PyTorch's DataLoader(shuffle=True) draws it: when an epoch starts, the
// loader draws a worker seed (Generator.Int63, unused here but drawn to
// stay in step with PyTorch), then a seed for the epoch, and the order is
// tensor.RandPerm from a new generator started from that seed. After
// tensor.ManualSeed(s) the epochs visit the samples in the order a
// PyTorch program seeded with s visits them, as long as both programs
// draw the same random numbers in between.
func Shuffle() Option { return ShuffleWith(nil) }

// ShuffleWith makes the loader visit the samples in a new random order
// every epoch, drawn from gen, as DataLoader(shuffle=True, generator=gen):
// when an epoch starts the loader draws a worker seed from gen
// (Generator.Int63), then the order, tensor.RandPerm, from gen itself,
// and then a second permutation that it does not use: PyTorch's
// RandomSampler draws it when the epoch runs out (an epoch left early
// draws it all the same here). A nil gen is Shuffle(). Each epoch draws
// all this when its iteration starts, so
// restoring gen's State, saved after an epoch, resumes the same sequence
// of epochs.
func ShuffleWith(gen *tensor.Generator) Option {
	return func(l *Loader) {
		l.freshGen = gen == nil
		if gen == nil {
			gen = tensor.DefaultGenerator()
		}
		l.gen = gen
	}
}

// DropLast drops the last batch of an epoch when it is smaller than the
// batch size (PyTorch's drop_last=True). Without it the last batch holds
// the remaining samples.
func DropLast() Option { return func(l *Loader) { l.dropLast = true } }

// Prefetch sets how many batches the background goroutines keep ready
// ahead of the loop (default 2). Prefetch(0) builds every batch in the
// loop's own goroutine when the loop asks for it, with no goroutines.
func Prefetch(n int) Option { return func(l *Loader) { l.prefetch = n } }

// Workers sets the number of goroutines that build batches (default 1).
// More help when the data set's Get is slow (decoding, augmentation);
// the data set must then be safe for concurrent use. Batches are yielded
// in order whatever the number of workers. With Prefetch(0) it has no
// effect.
func Workers(n int) Option { return func(l *Loader) { l.workers = n } }

// ToDevice makes the background goroutines move every batch to dev, so
// the copy overlaps with the training step. Without it batches stay where
// the data set builds them, the CPU for the data sets of this package.
func ToDevice(dev device.Device) Option {
	return func(l *Loader) { l.dev, l.toDev = dev, true }
}

// Loader cuts a data set into mini-batches, as PyTorch's DataLoader. Each
// call of All iterates over one epoch. A Loader is safe for concurrent
// use, though epochs are normally run one after another.
type Loader struct {
	ds        Dataset
	batchSize int
	gen       *tensor.Generator // nil: no shuffling
	freshGen  bool              // each epoch's order comes from a new generator seeded from gen
	dropLast  bool
	prefetch  int
	workers   int
	dev       device.Device
	toDev     bool
}

// NewLoader returns a loader over ds configured by opts. It reports a nil
// data set, a batch size, prefetch depth or worker count out of range, and
// a device in ToDevice that cannot be used.
func NewLoader(ds Dataset, opts ...Option) (*Loader, error) {
	if ds == nil {
		return nil, errors.New("data: NewLoader: the data set is nil")
	}
	l := &Loader{ds: ds, batchSize: 1, prefetch: 2, workers: 1}
	for _, o := range opts {
		o(l)
	}
	switch {
	case l.batchSize <= 0:
		return nil, fmt.Errorf("data: NewLoader: batch size must be positive, got %d", l.batchSize)
	case l.prefetch < 0:
		return nil, fmt.Errorf("data: NewLoader: prefetch must be 0 or more, got %d", l.prefetch)
	case l.workers <= 0:
		return nil, fmt.Errorf("data: NewLoader: the number of workers must be positive, got %d", l.workers)
	}
	if l.toDev {
		if _, err := device.Get(l.dev); err != nil {
			return nil, fmt.Errorf("data: NewLoader: ToDevice(%v): %w", l.dev, err)
		}
	}
	return l, nil
}

// Dataset returns the loader's data set.
func (l *Loader) Dataset() Dataset { return l.ds }

// BatchSize returns the number of samples per batch.
func (l *Loader) BatchSize() int { return l.batchSize }

// Generator returns the generator the loader shuffles with, or nil when
// it does not shuffle (each epoch of a loader that does not shuffle still
// draws PyTorch's worker seed, from the default generator). Save its
// State with a checkpoint and restore it with SetState to resume the same
// sequence of epochs.
func (l *Loader) Generator() *tensor.Generator { return l.gen }

// Len returns the number of batches in an epoch.
func (l *Loader) Len() int {
	n := l.ds.Len()
	if l.dropLast {
		return n / l.batchSize
	}
	return (n + l.batchSize - 1) / l.batchSize
}

// All returns an iterator over one epoch of batches, for a range loop:
//
//	for b, err := range loader.All() {
//		if err != nil {
//			return err
//		}
//		x, y := b.X(), b.Y()
//		...
//	}
//
// It yields every batch with a nil error, or stops after yielding one
// error (a failing Get, samples that cannot be stacked, a failed device
// copy); the error names the batch. When shuffling, the epoch's order is
// drawn when the loop starts. Background goroutines build the next
// batches while the loop body runs; leaving the loop early (break,
// return, a panic) stops them, and the loop statement returns only after
// they have exited. A panic in the data set other than a tensor error is
// re-raised in the loop's goroutine.
func (l *Loader) All() iter.Seq2[Batch, error] {
	return func(yield func(Batch, error) bool) {
		batches, err := l.epochBatches()
		if err != nil {
			yield(Batch{}, err)
			return
		}
		if l.prefetch == 0 {
			for k, idx := range batches {
				r := l.build(k, idx, nil)
				if r.panicked != nil {
					panic(r.panicked)
				}
				if !yield(r.batch, r.err) || r.err != nil {
					return
				}
			}
			return
		}
		l.runBackground(batches, yield)
	}
}

// epochBatches returns the indices of the epoch's batches.
func (l *Loader) epochBatches() ([][]int, error) {
	n := l.ds.Len()
	var order []int
	// PyTorch's DataLoader draws a seed for its workers from its
	// generator (the default one when it has none) at the start of every
	// epoch, shuffled or not; nabla has no worker processes to seed but
	// draws it all the same, to keep the stream where PyTorch's is.
	if l.gen == nil {
		tensor.DefaultGenerator().Int63()
		order = make([]int, n)
		for i := range order {
			order[i] = i
		}
	} else {
		l.gen.Int63()
		gen := l.gen
		if l.freshGen {
			// RandomSampler without a generator of its own.
			gen = tensor.NewGenerator(uint64(l.gen.Int63()))
		}
		var err error
		if order, err = permutation(n, gen); err != nil {
			return nil, fmt.Errorf("data: Loader: shuffling: %w", err)
		}
		// RandomSampler runs a second permutation, of which it yields
		// nothing, when its epoch runs out; that only matters when the
		// generator is the loader's own.
		if !l.freshGen && n > 0 {
			if _, err := permutation(n, gen); err != nil {
				return nil, fmt.Errorf("data: Loader: shuffling: %w", err)
			}
		}
	}
	batches := make([][]int, 0, l.Len())
	for at := 0; at < n; at += l.batchSize {
		end := min(at+l.batchSize, n)
		if end-at < l.batchSize && l.dropLast {
			break
		}
		batches = append(batches, order[at:end:end])
	}
	return batches, nil
}

// result is a built batch, or why there is none.
type result struct {
	batch    Batch
	err      error
	panicked any // a non-tensor panic, re-raised in the consumer
}

// build collates batch k and moves it to the loader's device, turning
// tensor panics into errors and catching other panics for the consumer.
func (l *Loader) build(k int, indices []int, stop <-chan struct{}) (r result) {
	defer func() {
		if p := recover(); p != nil {
			if te, ok := p.(*tensor.Error); ok {
				r = result{err: fmt.Errorf("data: Loader: batch %d: %w", k, te)}
				return
			}
			r = result{panicked: fmt.Sprintf("data: Loader: panic while building batch %d: %v\n\n%s", k, p, debug.Stack())}
		}
	}()
	ts, err := collate(l.ds, indices, stop)
	if err != nil {
		return result{err: fmt.Errorf("data: Loader: batch %d: %w", k, err)}
	}
	if l.toDev {
		for i, t := range ts {
			ts[i] = t.To(l.dev)
		}
	}
	return result{batch: Batch{Tensors: ts, Indices: indices, Seq: k}}
}

// job asks a worker to build batch k into fut.
type job struct {
	k       int
	indices []int
	fut     chan<- result
}

// runBackground runs one epoch with background workers. A dispatcher
// hands out the batches in order and queues a future for each; the
// consumer (this goroutine) takes the futures from the queue in order, so
// batches come out in order whatever the number of workers, and at most
// cap(queue)+1 batches are in progress or ready ahead of the loop body.
func (l *Loader) runBackground(batches [][]int, yield func(Batch, error) bool) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() {
		close(stop)
		wg.Wait()
	}()
	queue := make(chan chan result, max(l.prefetch, l.workers))
	jobs := make(chan job)
	wg.Add(1)
	go func() { // dispatcher
		defer wg.Done()
		defer close(queue)
		defer close(jobs)
		for k, idx := range batches {
			fut := make(chan result, 1)
			select {
			case queue <- fut:
			case <-stop:
				return
			}
			select {
			case jobs <- job{k: k, indices: idx, fut: fut}:
			case <-stop:
				return
			}
		}
	}()
	for range min(l.workers, len(batches)) {
		wg.Add(1)
		go func() { // worker
			defer wg.Done()
			for j := range jobs {
				j.fut <- l.build(j.k, j.indices, stop)
			}
		}()
	}
	for fut := range queue {
		r := <-fut
		if r.panicked != nil {
			panic(r.panicked)
		}
		if !yield(r.batch, r.err) || r.err != nil {
			return
		}
	}
}
