package optim_test

import (
	"fmt"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

// A linear warm-up over the first 3 epochs, then cosine annealing: the
// usual pairing, as torch.optim.lr_scheduler.SequentialLR builds it.
func ExampleSequentialLR() {
	w := autograd.Param(tensor.Zeros(3))
	opt := optim.SGD([]*autograd.Var{w}, 0.1)
	warmup := optim.LinearLR(opt, 0.1, 1, 3)
	cosine := optim.CosineAnnealingLR(opt, 5, 0)
	sched := optim.SequentialLR(opt, []optim.Scheduler{warmup, cosine}, []int{3})
	for epoch := range 8 {
		fmt.Printf("epoch %d: lr %.4f\n", epoch, opt.LR())
		// ... the epoch's opt.Step() calls ...
		sched.Step()
	}
	// Output:
	// epoch 0: lr 0.0100
	// epoch 1: lr 0.0400
	// epoch 2: lr 0.0700
	// epoch 3: lr 0.1000
	// epoch 4: lr 0.0905
	// epoch 5: lr 0.0655
	// epoch 6: lr 0.0345
	// epoch 7: lr 0.0095
}

// ReduceLROnPlateau watches a validation metric and divides the rate when
// it stalls for more than Patience epochs.
func ExampleReduceLROnPlateau() {
	w := autograd.Param(tensor.Zeros(3))
	opt := optim.Adam([]*autograd.Var{w}, 1e-3)
	sched := optim.ReduceLROnPlateau(opt, optim.Mode("max"), optim.Patience(1), optim.Factor(0.5))
	for _, accuracy := range []float64{0.60, 0.70, 0.72, 0.71, 0.72, 0.80, 0.79, 0.78} {
		sched.Step(accuracy)
		fmt.Printf("accuracy %.2f: best %.2f, lr %g\n", accuracy, sched.Best(), opt.LR())
	}
	// Output:
	// accuracy 0.60: best 0.60, lr 0.001
	// accuracy 0.70: best 0.70, lr 0.001
	// accuracy 0.72: best 0.72, lr 0.001
	// accuracy 0.71: best 0.72, lr 0.001
	// accuracy 0.72: best 0.72, lr 0.0005
	// accuracy 0.80: best 0.80, lr 0.0005
	// accuracy 0.79: best 0.80, lr 0.0005
	// accuracy 0.78: best 0.80, lr 0.00025
}
