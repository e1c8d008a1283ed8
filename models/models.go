package models

import (
	"fmt"

	"github.com/nabla-go/nabla/nn"
)

// MLP returns the 784-256-128-10 perceptron with ReLU activations. With a
// dropout probability above zero, Dropout follows each hidden activation.
// It accepts images of any shape whose elements number 784 per sample.
func MLP(dropout float64) nn.Module {
	layers := []nn.Module{nn.Flatten(), nn.Linear(784, 256), nn.ReLU()}
	if dropout > 0 {
		layers = append(layers, nn.Dropout(dropout))
	}
	layers = append(layers, nn.Linear(256, 128), nn.ReLU())
	if dropout > 0 {
		layers = append(layers, nn.Dropout(dropout))
	}
	layers = append(layers, nn.Linear(128, 10))
	return nn.Sequential(layers...)
}

// CNN returns a small convolutional network for [N 1 28 28] images: two
// blocks of 3×3 convolution, ReLU and 2×2 max pooling (32 and 64
// channels), then a 128-unit hidden layer and 10 outputs.
func CNN(dropout float64) nn.Module {
	layers := []nn.Module{
		nn.Conv2d(1, 32, 3, nn.Padding(1)), nn.ReLU(), nn.MaxPool2d(2, 2),
		nn.Conv2d(32, 64, 3, nn.Padding(1)), nn.ReLU(), nn.MaxPool2d(2, 2),
		nn.Flatten(), nn.Linear(64*7*7, 128), nn.ReLU(),
	}
	if dropout > 0 {
		layers = append(layers, nn.Dropout(dropout))
	}
	layers = append(layers, nn.Linear(128, 10))
	return nn.Sequential(layers...)
}

// ByName returns MLP or CNN by the names the nabla command accepts.
func ByName(name string, dropout float64) (nn.Module, error) {
	switch name {
	case "mlp":
		return MLP(dropout), nil
	case "cnn":
		return CNN(dropout), nil
	}
	return nil, fmt.Errorf("unknown model %q (want mlp or cnn)", name)
}
