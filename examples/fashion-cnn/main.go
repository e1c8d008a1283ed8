// Fashion-MNIST with a convolutional network: two blocks of 3×3
// convolution, ReLU and 2×2 max pooling (32 and 64 channels), a 128-unit
// hidden layer with dropout and 10 outputs, trained with Adam. A CNN epoch
// costs far more than an MLP's on the CPU, so by default it trains for one
// epoch on 2,000 images and tests on 1,000; -train 0 -test 0 -epochs 3
// trains on all of them (about 90% test accuracy; a GPU helps).
//
// The data come from -data, $NABLA_DATA, Debian's dataset-fashion-mnist,
// or the images embedded in the nabla command, in that order.
//
// Run it with: go run ./examples/fashion-cnn [-epochs N] [-train N] [-test N]
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
	epochs := flag.Int("epochs", 1, "passes over the training images")
	nTrain := flag.Int("train", 2000, "training images to use (0: all)")
	nTest := flag.Int("test", 1000, "test images to use (0: all)")
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
	if test, err = fashion.First(test, *nTest); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("data: %s; training on %d images, testing on %d\n", desc, train.Len(), test.Len())

	tensor.ManualSeed(1)
	trainLoader, err := data.NewLoader(train, data.BatchSize(*batch), data.Shuffle(), data.ToDevice(dev))
	if err != nil {
		log.Fatal(err)
	}
	testLoader, err := data.NewLoader(test, data.BatchSize(500), data.ToDevice(dev))
	if err != nil {
		log.Fatal(err)
	}

	// Images are [N 1 28 28]; each pooling halves the side: 28 -> 14 -> 7.
	model := nn.Sequential(
		nn.Conv2d(1, 32, 3, nn.Padding(1)), nn.ReLU(), nn.MaxPool2d(2, 2),
		nn.Conv2d(32, 64, 3, nn.Padding(1)), nn.ReLU(), nn.MaxPool2d(2, 2),
		nn.Flatten(),
		nn.Linear(64*7*7, 128), nn.ReLU(), nn.Dropout(0.25),
		nn.Linear(128, 10),
	).To(dev)
	fmt.Printf("model on %v, %d parameters:\n%v\n", dev, nn.NumParameters(model), model)
	lossFn := nn.CrossEntropyLoss()
	opt := optim.Adam(model.Parameters(), *lr)

	for epoch := 1; epoch <= *epochs; epoch++ {
		start := time.Now()
		model.Train() // dropout on
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
