// Package models holds the reference networks of the course and of the
// nabla command (a multilayer perceptron and a small convolutional network
// for 28×28 images) and the plain training and evaluation loops they share.
package models
