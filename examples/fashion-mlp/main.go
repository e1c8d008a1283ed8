// Fashion-MNIST with a multilayer perceptron: 784-256-128-10 with ReLU,
// cross-entropy loss and Adam, trained with a shuffling DataLoader that
// moves the batches to the device, then evaluated in eval mode without
// gradients. By default it trains briefly on 10,000 images; -train 0
// -epochs 10 trains on all of them (about 88% test accuracy).
//
// The data come from -data, $NABLA_DATA, Debian's dataset-fashion-mnist,
// or the images embedded in the nabla command, in that order.
//
// Run it with: go run ./examples/fashion-mlp [-epochs N] [-train N]
package main

import (
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/examples/internal/fashion"
	"github.com/nabla-go/nabla/models"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

func main() {
	epochs := flag.Int("epochs", 2, "passes over the training images")
	nTrain := flag.Int("train", 10000, "training images to use (0: all)")
	batch := flag.Int("batch", 64, "mini-batch size")
	lr := flag.Float64("lr", 1e-3, "Adam's learning rate")
	dir := flag.String("data", "", "directory of the Fashion-MNIST IDX files")
	devName := flag.String("device", "auto", "device: auto, cpu, cuda or cuda:N")
	flag.Parse()
	dev, err := device.Parse(*devName)
	if err != nil {
		log.Fatal(err)
	}

	train, test, desc, err := fashion.Load(*dir)
	if err != nil {
		log.Fatal(err)
	}
	if train, err = fashion.First(train, *nTrain); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("data: %s; training on %d images, testing on %d\n", desc, train.Len(), test.Len())

	tensor.ManualSeed(1)
	trainLoader, err := data.NewLoader(train, data.BatchSize(*batch), data.Shuffle(), data.ToDevice(dev))
	if err != nil {
		log.Fatal(err)
	}
	testLoader, err := data.NewLoader(test, data.BatchSize(1000), data.ToDevice(dev))
	if err != nil {
		log.Fatal(err)
	}

	model := nn.Sequential(
		nn.Flatten(),
		nn.Linear(784, 256), nn.ReLU(),
		nn.Linear(256, 128), nn.ReLU(),
		nn.Linear(128, 10),
	).To(dev)
	fmt.Printf("model on %v, %d parameters:\n%v\n", dev, nn.NumParameters(model), model)
	lossFn := nn.CrossEntropyLoss()
	opt := optim.Adam(model.Parameters(), *lr)

	for epoch := 1; epoch <= *epochs; epoch++ {
		start := time.Now()
		model.Train()
		var total float64
		for b, err := range trainLoader.All() {
			if err != nil {
				log.Fatal(err)
			}
			opt.ZeroGrad()
			loss := lossFn(model.Forward(autograd.Const(b.X())), autograd.Const(b.Y()))
			loss.Backward()
			opt.Step()
			total += loss.Item()
		}
		fmt.Printf("epoch %d: mean loss %.4f (%.1fs), test accuracy %.2f%%\n",
			epoch, total/float64(trainLoader.Len()), time.Since(start).Seconds(), 100*testAccuracy(model, testLoader))
	}
}

// testAccuracy evaluates the model in eval mode without recording
// gradients (models.Accuracy does the NoGrad and Eval/Train switching).
func testAccuracy(model nn.Module, loader *data.Loader) float64 {
	acc, err := models.Accuracy(model, loader)
	if err != nil {
		log.Fatal(err)
	}
	return acc
}
