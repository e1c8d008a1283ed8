package tensor

import (
	"fmt"
	"math"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/device/cpu"
)

// Options choose where and how constructors build a tensor: its device,
// dtype and random generator. The zero value means CPU, Float32 and the
// default generator, the defaults of the package-level constructors.
//
//	x := tensor.On(dev).Of(tensor.Float64).Randn(3, 4)
type Options struct {
	dev   device.Device
	dtype DType
	gen   *Generator
}

// On returns Options that build tensors on dev.
func On(dev device.Device) Options { return Options{dev: dev} }

// Of returns Options that build tensors of dtype dt on the CPU.
func Of(dt DType) Options { return Options{dtype: dt} }

// On returns o with the device set to dev.
func (o Options) On(dev device.Device) Options { o.dev = dev; return o }

// Of returns o with the dtype set to dt.
func (o Options) Of(dt DType) Options { o.dtype = dt; return o }

// WithGenerator returns o drawing random numbers from g instead of the
// default generator.
func (o Options) WithGenerator(g *Generator) Options { o.gen = g; return o }

func (o Options) backend(op string) device.Backend { return backendOf(op, o.dev) }

// Empty returns a tensor whose contents are unspecified.
func (o Options) Empty(shape ...int) *Tensor {
	return empty("Empty", o.backend("Empty"), o.dtype, shape)
}

// Full returns a tensor with every element set to v.
func (o Options) Full(v float64, shape ...int) *Tensor { return o.filled("Full", v, shape) }

// filled is Full under the name of the op the caller called, so that an
// error names Zeros or Ones when that is what the user wrote.
func (o Options) filled(op string, v float64, shape []int) *Tensor {
	t := empty(op, o.backend(op), o.dtype, shape)
	check(op, t.be.Fill(t.view(), v))
	return t
}

// Zeros returns a tensor of zeros.
func (o Options) Zeros(shape ...int) *Tensor { return o.filled("Zeros", 0, shape) }

// Ones returns a tensor of ones.
func (o Options) Ones(shape ...int) *Tensor { return o.filled("Ones", 1, shape) }

// Scalar returns a 0-dimensional tensor holding v.
func (o Options) Scalar(v float64) *Tensor { return o.Full(v) }

// Arange returns the 1-D sequence start, start+step, ... up to but not
// including end.
func (o Options) Arange(start, end, step float64) *Tensor {
	if step == 0 || math.IsNaN(start) || math.IsNaN(end) || math.IsNaN(step) || math.IsInf(start, 0) || math.IsInf(end, 0) {
		fail("Arange", ErrArgument, "needs finite start and end and a nonzero step, got (%v, %v, %v)", start, end, step)
	}
	count := math.Ceil((end - start) / step)
	if count < 0 {
		fail("Arange", ErrArgument, "step %v moves away from end: start %v, end %v", step, start, end)
	}
	// The count is a float: compare before converting, which would give
	// an arbitrary int for counts beyond int's range.
	if !(count < math.MaxInt) {
		fail("Arange", ErrShape, "(%v, %v, %v) would have %.4g elements, more than an int can count", start, end, step, count)
	}
	n := int(count)
	t, vals := hostFloat64s("Arange", n)
	for i := range vals {
		vals[i] = start + float64(i)*step
	}
	return t.As(o.dtype).To(o.dev)
}

// Linspace returns steps evenly spaced values from start to end inclusive.
func (o Options) Linspace(start, end float64, steps int) *Tensor {
	if steps < 0 {
		fail("Linspace", ErrArgument, "steps must be non-negative, got %d", steps)
	}
	t, vals := hostFloat64s("Linspace", steps)
	for i := range vals {
		if steps == 1 {
			vals[i] = start
			break
		}
		// Fill from both ends, as PyTorch does, so both endpoints are exact.
		step := (end - start) / float64(steps-1)
		if i < steps/2 {
			vals[i] = start + float64(i)*step
		} else {
			vals[i] = end - float64(steps-1-i)*step
		}
	}
	return t.As(o.dtype).To(o.dev)
}

// Eye returns the n×n identity matrix.
func (o Options) Eye(n int) *Tensor {
	t := o.Zeros(n, n)
	diag := device.View{Buf: t.buf, Layout: device.Layout{Shape: []int{n}, Strides: []int{n + 1}}}
	check("Eye", t.be.Fill(diag, 1))
	return t
}

// hostFloat64s allocates a 1-D Float64 CPU tensor of n elements for a
// constructor to fill, and returns it with its memory. It goes through the
// allocation checks of every tensor, so that a count too large for the
// machine is a *Error, not a runtime panic of make.
func hostFloat64s(op string, n int) (*Tensor, []float64) {
	t := empty(op, backendOf(op, device.CPU()), Float64, []int{n})
	return t, cpu.Data(t.buf).([]float64)
}

// FromSlice returns a CPU tensor holding a copy of data with the given
// shape; with no shape it is 1-D. The dtype follows the Go element type.
func FromSlice[T Elem](data []T, shape ...int) *Tensor {
	if len(shape) == 0 {
		shape = []int{len(data)}
	}
	if n := checkShape("FromSlice", shape); n != len(data) {
		fail("FromSlice", ErrShape, "shape %v holds %d elements but the slice has %d", shape, n, len(data))
	}
	t := empty("FromSlice", backendOf("FromSlice", device.CPU()), dtypeOf[T](), shape)
	copyToHost(cpu.Data(t.buf), data)
	return t
}

// Scalar returns a 0-dimensional CPU tensor holding v; its dtype follows
// the Go type of v.
func Scalar[T Elem](v T) *Tensor {
	t := empty("Scalar", backendOf("Scalar", device.CPU()), dtypeOf[T](), nil)
	copyToHost(cpu.Data(t.buf), []T{v})
	return t
}

// The package-level constructors build Float32 tensors on the CPU; use
// On(dev).Of(dtype) for others.

// Empty returns an uninitialised CPU Float32 tensor.
func Empty(shape ...int) *Tensor { return Options{}.Empty(shape...) }

// Zeros returns a CPU Float32 tensor of zeros.
func Zeros(shape ...int) *Tensor { return Options{}.Zeros(shape...) }

// Ones returns a CPU Float32 tensor of ones.
func Ones(shape ...int) *Tensor { return Options{}.Ones(shape...) }

// Full returns a CPU Float32 tensor filled with v.
func Full(v float64, shape ...int) *Tensor { return Options{}.Full(v, shape...) }

// Arange returns the CPU Float32 sequence start, start+step, ... < end.
func Arange(start, end, step float64) *Tensor { return Options{}.Arange(start, end, step) }

// Linspace returns steps evenly spaced CPU Float32 values from start to end.
func Linspace(start, end float64, steps int) *Tensor { return Options{}.Linspace(start, end, steps) }

// Eye returns the n×n CPU Float32 identity matrix.
func Eye(n int) *Tensor { return Options{}.Eye(n) }

// ZerosLike returns zeros with t's shape, dtype and device.
func ZerosLike(t *Tensor) *Tensor { return FullLike(t, 0) }

// OnesLike returns ones with t's shape, dtype and device.
func OnesLike(t *Tensor) *Tensor { return FullLike(t, 1) }

// FullLike returns a tensor of v with t's shape, dtype and device.
func FullLike(t *Tensor, v float64) *Tensor {
	return On(t.Device()).Of(t.DType()).Full(v, t.layout.Shape...)
}

// fullOf builds a 0-d tensor of v on t's device with dtype dt, without a
// host round trip (the fill runs on the device).
func (t *Tensor) scalarLike(op string, v float64, dt DType) *Tensor {
	s := t.emptyLike(op, dt, nil)
	check(op, t.be.Fill(s.view(), v))
	return s
}

// String for Options, for debugging.
func (o Options) String() string { return fmt.Sprintf("Options{%v, %v}", o.dev, o.dtype) }
