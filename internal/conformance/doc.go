// Package conformance holds the training conformance suite: every layer,
// loss and optimizer of packages nn and optim runs forward, backward and
// one optimizer step on every device present and is compared with the
// CPU backend, and whole training runs (the design document's XOR
// program, an MLP and a small CNN, checkpoints moved between devices) run
// on a GPU unchanged.
//
// The package has no code of its own, only tests. Built with -tags cuda on
// a machine with an NVIDIA GPU it checks the CUDA backend; elsewhere it
// checks a fake "cuda:0" (package internal/fakegpu) whose results are the
// CPU's exactly, which checks the suite itself, the device rules (nothing
// may mix devices) and that a training step never reads the device from
// the host.
package conformance
