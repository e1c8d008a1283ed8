// Multiple linear regression with a DataLoader: 1,000 samples of three
// features and a target y = 2·x1 - 3.5·x2 + x3 + 4 + noise, held in a
// TensorDataset, split 80/20 into training and validation sets with
// RandomSplit, and fed to an nn.Linear(3, 1) in shuffled mini-batches by a
// data.Loader, as torch.utils.data.DataLoader would.
//
// Run it with: go run ./examples/multiple-regression
package main

import (
	"flag"
	"fmt"
	"log"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

func main() {
	epochs := flag.Int("epochs", 20, "passes over the training set")
	batch := flag.Int("batch", 32, "mini-batch size")
	lr := flag.Float64("lr", 0.05, "learning rate")
	flag.Parse()

	tensor.ManualSeed(1)
	const n = 1000
	x := tensor.Randn(n, 3)
	trueW := tensor.FromSlice([]float32{2, -3.5, 1}, 3, 1)
	y := x.MatMul(trueW).Add(4).Add(tensor.Randn(n, 1).Mul(0.1))

	ds, err := data.TensorDataset(x, y)
	if err != nil {
		log.Fatal(err)
	}
	parts, err := data.RandomSplit(ds, []float64{0.8, 0.2}, tensor.NewGenerator(42))
	if err != nil {
		log.Fatal(err)
	}
	train, val := parts[0], parts[1]
	trainLoader, err := data.NewLoader(train, data.BatchSize(*batch), data.Shuffle())
	if err != nil {
		log.Fatal(err)
	}
	valLoader, err := data.NewLoader(val, data.BatchSize(200))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d training and %d validation samples, %d batches per epoch\n", train.Len(), val.Len(), trainLoader.Len())

	model := nn.Linear(3, 1)
	lossFn := nn.MSELoss()
	sumLoss := nn.MSELoss(nn.Sum) // reduction="sum", for the validation total
	opt := optim.SGD(model.Parameters(), *lr)
	for epoch := 1; epoch <= *epochs; epoch++ {
		for b, err := range trainLoader.All() {
			if err != nil {
				log.Fatal(err)
			}
			opt.ZeroGrad()
			loss := lossFn(model.Forward(autograd.Const(b.X())), autograd.Const(b.Y()))
			loss.Backward()
			opt.Step()
		}
		// Validation loss, without recording gradients (torch.no_grad()).
		var sum float64
		autograd.NoGrad(func() {
			for b, err := range valLoader.All() {
				if err != nil {
					log.Fatal(err)
				}
				sum += sumLoss(model.Forward(autograd.Const(b.X())), autograd.Const(b.Y())).Item()
			}
		})
		if epoch%5 == 0 || epoch == 1 {
			fmt.Printf("epoch %2d: validation MSE %.5f\n", epoch, sum/float64(val.Len()))
		}
	}
	w := model.Weight.Detach().Float32s()
	fmt.Printf("learned weights [%.3f %.3f %.3f], bias %.3f (true: [2 -3.5 1], 4)\n", w[0], w[1], w[2], model.Bias.Item())
}
