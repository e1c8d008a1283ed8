// Package fakegpu provides a stand-in for a CUDA device in tests on
// machines without a GPU: "cuda:0" whose memory is host memory behind a
// buffer type the CPU backend does not accept. Every operation unwraps its
// operands and runs the CPU backend, so results are the CPU's bit for bit,
// while any code path that mixes devices, or hands a device buffer to the
// CPU backend, fails loudly instead of silently working.
//
// It also counts uploads, downloads and allocations, which lets tests check
// that a training step stays on the device (no host round trips) without a
// GPU.
//
// Registering a CUDA provider is global to the process and cannot be
// undone; Register does nothing when a real CUDA device is present, so the
// same tests check the real backend on a GPU machine.
package fakegpu

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/nabla-go/nabla/device"
)

// ErrForeign reports a buffer of another device passed to the fake GPU.
var ErrForeign = errors.New("fakegpu: buffer from another device")

// Counters are the fake device's traffic counts since Register.
type Counters struct {
	Allocs, Uploads, Downloads int64
}

var counters struct{ allocs, uploads, downloads atomic.Int64 }

// Count returns the current counters.
func Count() Counters {
	return Counters{counters.allocs.Load(), counters.uploads.Load(), counters.downloads.Load()}
}

// Register installs the fake as the CUDA provider unless the process
// already has a CUDA device, and reports whether it did. Afterwards
// device.CUDA(0) is the fake.
func Register() bool {
	for _, d := range device.List() {
		if !d.IsCPU() {
			return false
		}
	}
	device.RegisterCUDA(provider{})
	return true
}

type provider struct{}

func (provider) Open(int) (device.Backend, error) {
	cpu, err := device.Get(device.CPU())
	if err != nil {
		return nil, err
	}
	return backend{cpu: cpu}, nil
}

func (provider) Count() int { return 1 }

// buffer is device memory of the fake: a CPU buffer the CPU backend will
// refuse until the fake unwraps it.
type buffer struct{ inner device.Buffer }

func (b *buffer) DType() device.DType { return b.inner.DType() }
func (b *buffer) Len() int            { return b.inner.Len() }

// backend implements every Backend method explicitly (no embedding), so a
// method added to the interface must be wrapped here before anything
// compiles, and none can reach the CPU backend with a fake buffer.
type backend struct{ cpu device.Backend }

// inner unwraps one operand; the zero View (an absent optional operand)
// passes through.
func inner(v device.View) (device.View, error) {
	if v.Buf == nil {
		return v, nil
	}
	b, ok := v.Buf.(*buffer)
	if !ok {
		return v, fmt.Errorf("%w: %T", ErrForeign, v.Buf)
	}
	v.Buf = b.inner
	return v, nil
}

// unwrap unwraps every operand.
func unwrap(vs ...device.View) ([]device.View, error) {
	out := make([]device.View, len(vs))
	for i, v := range vs {
		u, err := inner(v)
		if err != nil {
			return nil, err
		}
		out[i] = u
	}
	return out, nil
}

func (backend) Device() device.Device { return device.CUDA(0) }

func (f backend) Alloc(dt device.DType, n int) (device.Buffer, error) {
	b, err := f.cpu.Alloc(dt, n)
	if err != nil {
		return nil, err
	}
	counters.allocs.Add(1)
	return &buffer{b}, nil
}

func (f backend) Upload(dst device.Buffer, src any) error {
	b, ok := dst.(*buffer)
	if !ok {
		return fmt.Errorf("%w: %T", ErrForeign, dst)
	}
	counters.uploads.Add(1)
	return f.cpu.Upload(b.inner, src)
}

func (f backend) Download(dst any, src device.Buffer) error {
	b, ok := src.(*buffer)
	if !ok {
		return fmt.Errorf("%w: %T", ErrForeign, src)
	}
	counters.downloads.Add(1)
	return f.cpu.Download(dst, b.inner)
}

func (f backend) Synchronize() error { return f.cpu.Synchronize() }

func (f backend) Fill(dst device.View, v float64) error {
	u, err := unwrap(dst)
	if err != nil {
		return err
	}
	return f.cpu.Fill(u[0], v)
}

func (f backend) Copy(dst, src device.View) error {
	u, err := unwrap(dst, src)
	if err != nil {
		return err
	}
	return f.cpu.Copy(u[0], u[1])
}

func (f backend) Unary(op device.UnaryOp, dst, src device.View, alpha, beta float64) error {
	u, err := unwrap(dst, src)
	if err != nil {
		return err
	}
	return f.cpu.Unary(op, u[0], u[1], alpha, beta)
}

func (f backend) Binary(op device.BinaryOp, dst, a, b device.View) error {
	u, err := unwrap(dst, a, b)
	if err != nil {
		return err
	}
	return f.cpu.Binary(op, u[0], u[1], u[2])
}

func (f backend) Where(dst, cond, a, b device.View) error {
	u, err := unwrap(dst, cond, a, b)
	if err != nil {
		return err
	}
	return f.cpu.Where(u[0], u[1], u[2], u[3])
}

func (f backend) Reduce(op device.ReduceOp, dst, src device.View, n int) error {
	u, err := unwrap(dst, src)
	if err != nil {
		return err
	}
	return f.cpu.Reduce(op, u[0], u[1], n)
}

func (f backend) Softmax(dst, src device.View, log bool) error {
	u, err := unwrap(dst, src)
	if err != nil {
		return err
	}
	return f.cpu.Softmax(u[0], u[1], log)
}

func (f backend) MatMul(dst, a, b device.View) error {
	u, err := unwrap(dst, a, b)
	if err != nil {
		return err
	}
	return f.cpu.MatMul(u[0], u[1], u[2])
}

func (f backend) Gather(dst, src, idx device.View, dim int) error {
	u, err := unwrap(dst, src, idx)
	if err != nil {
		return err
	}
	return f.cpu.Gather(u[0], u[1], u[2], dim)
}

func (f backend) ScatterAdd(dst, src, idx device.View, dim int) error {
	u, err := unwrap(dst, src, idx)
	if err != nil {
		return err
	}
	return f.cpu.ScatterAdd(u[0], u[1], u[2], dim)
}

func (f backend) Im2Col(dst, src device.View, p device.ConvGeometry) error {
	u, err := unwrap(dst, src)
	if err != nil {
		return err
	}
	return f.cpu.Im2Col(u[0], u[1], p)
}

func (f backend) Col2Im(dst, src device.View, p device.ConvGeometry) error {
	u, err := unwrap(dst, src)
	if err != nil {
		return err
	}
	return f.cpu.Col2Im(u[0], u[1], p)
}

func (f backend) Pool2d(op device.PoolOp, dst, idx, src device.View, g device.ConvGeometry) error {
	u, err := unwrap(dst, idx, src)
	if err != nil {
		return err
	}
	return f.cpu.Pool2d(op, u[0], u[1], u[2], g)
}

func (f backend) Pool2dBackward(op device.PoolOp, dx, dy, idx device.View, g device.ConvGeometry) error {
	u, err := unwrap(dx, dy, idx)
	if err != nil {
		return err
	}
	return f.cpu.Pool2dBackward(op, u[0], u[1], u[2], g)
}

func (f backend) OptimStep(op device.OptimOp, p, g device.View, state [3]device.View, h device.OptimHyper) error {
	u, err := unwrap(p, g, state[0], state[1], state[2])
	if err != nil {
		return err
	}
	return f.cpu.OptimStep(op, u[0], u[1], [3]device.View{u[2], u[3], u[4]}, h)
}

func (f backend) Random(dst device.View, dist device.Distribution, seed, offset uint64, a, b float64) error {
	u, err := unwrap(dst)
	if err != nil {
		return err
	}
	return f.cpu.Random(u[0], dist, seed, offset, a, b)
}

// Wrappers of the training primitives added to the Backend interface
// follow, one per method.

func (f backend) BiasActivation(op device.UnaryOp, dst, src, bias device.View, alpha, beta float64) error {
	u, err := unwrap(dst, src, bias)
	if err != nil {
		return err
	}
	return f.cpu.BiasActivation(op, u[0], u[1], u[2], alpha, beta)
}

func (f backend) Dropout(dst, src device.View, p float64, seed, offset uint64) error {
	u, err := unwrap(dst, src)
	if err != nil {
		return err
	}
	return f.cpu.Dropout(u[0], u[1], p, seed, offset)
}

func (f backend) UnaryBackward(op device.UnaryOp, dx, g, x, y device.View, alpha, beta float64) error {
	u, err := unwrap(dx, g, x, y)
	if err != nil {
		return err
	}
	return f.cpu.UnaryBackward(op, u[0], u[1], u[2], u[3], alpha, beta)
}

func (f backend) BatchNormStats(mean, variance, x device.View) error {
	u, err := unwrap(mean, variance, x)
	if err != nil {
		return err
	}
	return f.cpu.BatchNormStats(u[0], u[1], u[2])
}

func (f backend) BatchNormForward(y, xhat, x, mean, invstd, weight, bias device.View) error {
	u, err := unwrap(y, xhat, x, mean, invstd, weight, bias)
	if err != nil {
		return err
	}
	return f.cpu.BatchNormForward(u[0], u[1], u[2], u[3], u[4], u[5], u[6])
}

func (f backend) BatchNormBackward(dx, dweight, dbias, g, xhat, invstd, weight device.View, training bool) error {
	u, err := unwrap(dx, dweight, dbias, g, xhat, invstd, weight)
	if err != nil {
		return err
	}
	return f.cpu.BatchNormBackward(u[0], u[1], u[2], u[3], u[4], u[5], u[6], training)
}

func (f backend) CrossEntropy(loss, lse, x, labels device.View) error {
	u, err := unwrap(loss, lse, x, labels)
	if err != nil {
		return err
	}
	return f.cpu.CrossEntropy(u[0], u[1], u[2], u[3])
}

func (f backend) CrossEntropyBackward(dx, x, lse, labels, g device.View) error {
	u, err := unwrap(dx, x, lse, labels, g)
	if err != nil {
		return err
	}
	return f.cpu.CrossEntropyBackward(u[0], u[1], u[2], u[3], u[4])
}
