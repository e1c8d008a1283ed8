package tensor_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/tensor"
)

func TestToCPU(t *testing.T) {
	x := seq(2, 3)
	require.Same(t, x, x.To(device.CPU()), "To the device a tensor is on returns it")
	require.Same(t, x, x.CPU())
	xt := x.T()
	require.Same(t, xt, xt.CPU(), "even when not contiguous")
}

func TestAs(t *testing.T) {
	f := tensor.FromSlice([]float64{-2.7, -0.5, 0, 0.5, 1, 2.9, 255})
	require.Same(t, f, f.As(tensor.Float64))
	require.Equal(t, []float32{-2.7, -0.5, 0, 0.5, 1, 2.9, 255}, f.As(tensor.Float32).Float32s())
	// Float to integer truncates toward zero, as PyTorch's .long().
	require.Equal(t, []int64{-2, 0, 0, 0, 1, 2, 255}, f.As(tensor.Int64).Int64s())
	require.Equal(t, []bool{true, true, false, true, true, true, true}, f.As(tensor.Bool).Bools())
	require.Equal(t, []uint8{0, 1, 2, 255}, tensor.FromSlice([]float64{0, 1.5, 2.9, 255}).As(tensor.Uint8).Uint8s())

	i := tensor.FromSlice([]int64{-3, 0, 7})
	require.Equal(t, []float32{-3, 0, 7}, i.As(tensor.Float32).Float32s())
	require.Equal(t, []float64{-3, 0, 7}, i.As(tensor.Float64).Float64s())
	require.Equal(t, []bool{true, false, true}, i.As(tensor.Bool).Bools())

	b := tensor.FromSlice([]bool{true, false})
	require.Equal(t, []float32{1, 0}, b.As(tensor.Float32).Float32s())
	require.Equal(t, []int64{1, 0}, b.As(tensor.Int64).Int64s())
	require.Equal(t, []uint8{1, 0}, b.As(tensor.Uint8).Uint8s())

	u := tensor.FromSlice([]uint8{0, 128, 255})
	require.Equal(t, []float32{0, 128, 255}, u.As(tensor.Float32).Float32s())
	require.Equal(t, []int64{0, 128, 255}, u.As(tensor.Int64).Int64s())

	// Conversions keep the shape and read strided tensors in logical order.
	x := seq(2, 3).T()
	c := x.As(tensor.Int64)
	require.Equal(t, []int{3, 2}, c.Shape())
	require.Equal(t, []int64{0, 3, 1, 4, 2, 5}, c.Int64s())
	require.Equal(t, []int{}, tensor.Scalar(2.5).As(tensor.Float32).Shape())
	require.Equal(t, []int{0, 3}, seq(0, 3).As(tensor.Bool).Shape())
	// Every dtype to every dtype round-trips small integers.
	dts := []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int64, tensor.Bool, tensor.Uint8}
	for _, from := range dts {
		for _, to := range dts {
			src := tensor.FromSlice([]float64{0, 1, 1, 0}).As(from)
			require.Equal(t, []float64{0, 1, 1, 0}, values(src.As(to)), "%v -> %v", from, to)
		}
	}
	requireFails(t, tensor.ErrDType, func() { f.As(tensor.DType(42)) }, "tensor: As: unknown dtype dtype(42)")
}

func TestHostReads(t *testing.T) {
	x := seq32(2, 3)
	require.Equal(t, []float32{0, 1, 2, 3, 4, 5}, x.Float32s())
	require.Equal(t, []float32{0, 3, 1, 4, 2, 5}, x.T().Float32s(), "row-major order of the view")
	require.Equal(t, []float32{4, 5}, x.Select(0, 1).Narrow(0, 1, 2).Float32s())
	require.Equal(t, []float32{2, 2, 2}, tensor.Full(2, 1).Expand(3).Float32s())
	// The returned slice is a copy.
	got := x.Float32s()
	got[0] = 99
	require.Equal(t, float32(0), x.Float32s()[0])

	require.Equal(t, 3.0, x.Index(1, 0).Item())
	require.Equal(t, 1.0, tensor.Scalar(true).Item())
	require.Equal(t, -4.0, tensor.Scalar(int64(-4)).Item())
	require.Equal(t, 200.0, tensor.Scalar(uint8(200)).Item())
	require.Equal(t, 5.0, tensor.FromSlice([]float32{5}, 1, 1).Item())

	tests := []struct {
		name string
		f    func()
		msg  string
	}{
		{"Float64sOfFloat32", func() { x.Float64s() }, "tensor: Float64s: the tensor is float32, not float64; convert with .As(tensor.Float64) first"},
		{"Float32sOfFloat64", func() { seq(2).Float32s() }, "tensor: Float32s: the tensor is float64, not float32; convert with .As(tensor.Float32) first"},
		{"Int64sOfFloat", func() { x.Int64s() }, "tensor: Int64s: the tensor is float32, not int64; convert with .As(tensor.Int64) first"},
		{"BoolsOfFloat", func() { x.Bools() }, "tensor: Bools: the tensor is float32, not bool; convert with .As(tensor.Bool) first"},
		{"Uint8sOfInt", func() { tensor.FromSlice([]int64{1}).Uint8s() }, "tensor: Uint8s: the tensor is int64, not uint8; convert with .As(tensor.Uint8) first"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := requireFails(t, tensor.ErrDType, tc.f)
			require.Equal(t, tc.msg, err.Error())
		})
	}
	requireFails(t, tensor.ErrShape, func() { x.Item() }, "tensor: Item: needs exactly one element, the tensor has shape [2 3] (6 elements)")
	requireFails(t, tensor.ErrShape, func() { seq(0).Item() }, "(0 elements)")
}

func TestDeviceErrorsWithoutCUDA(t *testing.T) {
	if len(device.List()) > 1 {
		t.Skip("this binary has a CUDA device")
	}
	_, err := device.Parse("cuda")
	require.Error(t, err)
	require.ErrorIs(t, err, device.ErrNoCUDA)
	require.Equal(t, "device: CUDA is not available in this binary; rebuild with `go build -tags cuda` on a machine with the NVIDIA driver and a GPU, or set NABLA_CUDA=emulate to run the CUDA code path in the PTX virtual machine", err.Error())
	_, err = device.Parse("cuda:1")
	require.ErrorIs(t, err, device.ErrNoCUDA)
	_, err = device.Parse("tpu")
	require.EqualError(t, err, `device: unknown device "tpu" (want cpu, cuda, cuda:N or auto)`)
	_, err = device.Parse("cuda:x")
	require.ErrorContains(t, err, "the CUDA ordinal must be a non-negative integer")
	d, err := device.Parse("auto")
	require.NoError(t, err)
	require.Equal(t, device.CPU(), d)
	require.Equal(t, device.CPU(), device.Best())

	// Building on or moving to a CUDA device fails with ErrDevice and keeps
	// the registry's error as the cause.
	for name, f := range map[string]func(){
		"To":       func() { tensor.Ones(2).To(device.CUDA(0)) },
		"Zeros":    func() { tensor.On(device.CUDA(0)).Zeros(2) },
		"Rand":     func() { tensor.On(device.CUDA(1)).Rand(2) },
		"Arange":   func() { tensor.On(device.CUDA(0)).Arange(0, 3, 1) },
		"RandPerm": func() { tensor.On(device.CUDA(0)).RandPerm(3) },
	} {
		err := requireFails(t, tensor.ErrDevice, f, "CUDA is not available in this binary")
		require.ErrorIs(t, err, device.ErrNoCUDA, name)
	}
	err = requireFails(t, tensor.ErrDevice, func() { tensor.Ones(2).To(device.CUDA(0)) })
	require.Equal(t, "tensor: To: "+device.ErrNoCUDA.Error(), err.Error())
}

// The tests below give the process a second device: a fake "cuda:0" whose
// memory is host memory behind a buffer type the CPU backend does not
// accept, so any op that mixes devices without checking fails loudly.
// Registering a device is global and cannot be undone, so they run in a
// child process.

type fakeBuf struct{ inner device.Buffer }

func (b *fakeBuf) DType() device.DType { return b.inner.DType() }
func (b *fakeBuf) Len() int            { return b.inner.Len() }

type fakeGPU struct {
	device.Backend // the CPU backend, for operations not wrapped below
}

var errForeign = errors.New("fake cuda: buffer from another device")

func un(vs ...device.View) ([]device.View, error) {
	out := make([]device.View, len(vs))
	for i, v := range vs {
		fb, ok := v.Buf.(*fakeBuf)
		if !ok {
			return nil, fmt.Errorf("%w: %T", errForeign, v.Buf)
		}
		v.Buf = fb.inner
		out[i] = v
	}
	return out, nil
}

func (f fakeGPU) Device() device.Device { return device.CUDA(0) }
func (f fakeGPU) Alloc(dt device.DType, n int) (device.Buffer, error) {
	b, err := f.Backend.Alloc(dt, n)
	if err != nil {
		return nil, err
	}
	return &fakeBuf{b}, nil
}
func (f fakeGPU) Upload(dst device.Buffer, src any) error {
	fb, ok := dst.(*fakeBuf)
	if !ok {
		return errForeign
	}
	return f.Backend.Upload(fb.inner, src)
}
func (f fakeGPU) Download(dst any, src device.Buffer) error {
	fb, ok := src.(*fakeBuf)
	if !ok {
		return errForeign
	}
	return f.Backend.Download(dst, fb.inner)
}
func (f fakeGPU) Fill(dst device.View, v float64) error {
	vs, err := un(dst)
	if err != nil {
		return err
	}
	return f.Backend.Fill(vs[0], v)
}
func (f fakeGPU) Copy(dst, src device.View) error {
	vs, err := un(dst, src)
	if err != nil {
		return err
	}
	return f.Backend.Copy(vs[0], vs[1])
}
func (f fakeGPU) Unary(op device.UnaryOp, dst, src device.View, a, b float64) error {
	vs, err := un(dst, src)
	if err != nil {
		return err
	}
	return f.Backend.Unary(op, vs[0], vs[1], a, b)
}
func (f fakeGPU) Binary(op device.BinaryOp, dst, a, b device.View) error {
	vs, err := un(dst, a, b)
	if err != nil {
		return err
	}
	return f.Backend.Binary(op, vs[0], vs[1], vs[2])
}
func (f fakeGPU) Where(dst, c, a, b device.View) error {
	vs, err := un(dst, c, a, b)
	if err != nil {
		return err
	}
	return f.Backend.Where(vs[0], vs[1], vs[2], vs[3])
}
func (f fakeGPU) Reduce(op device.ReduceOp, dst, src device.View, n int) error {
	vs, err := un(dst, src)
	if err != nil {
		return err
	}
	return f.Backend.Reduce(op, vs[0], vs[1], n)
}
func (f fakeGPU) Softmax(dst, src device.View, log bool) error {
	vs, err := un(dst, src)
	if err != nil {
		return err
	}
	return f.Backend.Softmax(vs[0], vs[1], log)
}
func (f fakeGPU) MatMul(dst, a, b device.View) error {
	vs, err := un(dst, a, b)
	if err != nil {
		return err
	}
	return f.Backend.MatMul(vs[0], vs[1], vs[2])
}
func (f fakeGPU) Gather(dst, src, idx device.View, dim int) error {
	vs, err := un(dst, src, idx)
	if err != nil {
		return err
	}
	return f.Backend.Gather(vs[0], vs[1], vs[2], dim)
}
func (f fakeGPU) ScatterAdd(dst, src, idx device.View, dim int) error {
	vs, err := un(dst, src, idx)
	if err != nil {
		return err
	}
	return f.Backend.ScatterAdd(vs[0], vs[1], vs[2], dim)
}
func (f fakeGPU) Random(dst device.View, dist device.Distribution, seed, offset uint64, a, b float64) error {
	vs, err := un(dst)
	if err != nil {
		return err
	}
	return f.Backend.Random(vs[0], dist, seed, offset, a, b)
}

type fakeProvider struct{}

func (fakeProvider) Open(int) (device.Backend, error) {
	cpu, err := device.Get(device.CPU())
	if err != nil {
		return nil, err
	}
	return fakeGPU{cpu}, nil
}
func (fakeProvider) Count() int { return 1 }

const fakeCUDAEnv = "NABLA_TENSOR_TEST_FAKE_CUDA"

func TestFakeCUDADevice(t *testing.T) {
	if os.Getenv(fakeCUDAEnv) != "1" {
		if testing.Short() {
			t.Skip("runs a child process")
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestFakeCUDADevice$", "-test.count=1")
		cmd.Env = append(os.Environ(), fakeCUDAEnv+"=1")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "child process:\n%s", out)
		require.Contains(t, string(out), "PASS")
		return
	}
	device.RegisterCUDA(fakeProvider{})
	gpu, err := device.Parse("cuda")
	require.NoError(t, err)
	require.Equal(t, device.CUDA(0), gpu)
	require.Equal(t, gpu, device.Best())
	require.Equal(t, []device.Device{device.CPU(), gpu}, device.List())
	_, err = device.Parse("cuda:1")
	require.EqualError(t, err, "device: cuda:1 does not exist: this machine has 1 CUDA device(s)")

	host := seq32(2, 3)
	x := host.To(gpu)
	require.Equal(t, gpu, x.Device())
	require.Same(t, x, x.To(gpu))
	require.Equal(t, device.CPU(), x.CPU().Device())
	require.Equal(t, host.Float32s(), x.CPU().Float32s())
	require.Equal(t, host.T().Float32s(), x.T().CPU().Float32s(), "moving a view moves its logical contents")
	require.Equal(t, []float32{3, 4, 5}, x.Select(0, 1).CPU().Float32s())

	// Operations run on the operands' device.
	y := x.Add(1).Mul(x).Sum(1)
	require.Equal(t, gpu, y.Device())
	require.Equal(t, []float32{0*1 + 1*2 + 2*3, 3*4 + 4*5 + 5*6}, y.CPU().Float32s())
	require.Equal(t, gpu, x.MatMul(x.T()).Device())
	require.Equal(t, host.MatMul(host.T()).Float32s(), x.MatMul(x.T()).CPU().Float32s())
	require.Equal(t, host.Softmax(1).Float32s(), x.Softmax(1).CPU().Float32s())
	require.Equal(t, gpu, x.Gt(2).Device())
	require.Equal(t, gpu, x.As(tensor.Int64).Device())
	require.Equal(t, gpu, tensor.ZerosLike(x).Device())
	require.Equal(t, gpu, tensor.Where(x.Gt(2), x, 0).Device())
	require.Equal(t, gpu, tensor.Cat([]*tensor.Tensor{x, x}, 0).Device())
	require.Equal(t, gpu, x.IndexSelect(1, tensor.FromSlice([]int64{2, 0}).To(gpu)).Device())
	require.Equal(t, gpu, tensor.On(gpu).Of(tensor.Float64).Arange(0, 3, 1).Device())
	require.Equal(t, gpu, tensor.On(gpu).Eye(3).Device())
	require.Equal(t, gpu, tensor.On(gpu).RandPerm(4).Device())

	// The same generator state gives the same stream on every device.
	a := tensor.On(gpu).WithGenerator(tensor.NewGenerator(3)).Randn(100)
	b := tensor.Options{}.WithGenerator(tensor.NewGenerator(3)).Randn(100)
	require.Equal(t, b.Float32s(), a.CPU().Float32s())

	// Item works on any device, host reads do not.
	require.Equal(t, 15.0, x.Sum().Item())
	for name, f := range map[string]func(){
		"Float32s": func() { x.Float32s() },
		"Float64s": func() { x.As(tensor.Float64).Float64s() },
		"Int64s":   func() { x.As(tensor.Int64).Int64s() },
		"Bools":    func() { x.Gt(1).Bools() },
		"Uint8s":   func() { x.As(tensor.Uint8).Uint8s() },
	} {
		err := requireFails(t, tensor.ErrDevice, f)
		require.Equal(t, "tensor: "+name+": the tensor is on cuda:0; host reads need a CPU tensor: call .CPU() first (for a Var: .Detach().CPU())", err.Error())
	}

	// Mixed devices: a clear error naming the op, both devices and the fix.
	mixed := []struct {
		name string
		f    func()
		msg  string
	}{
		{"Add", func() { x.Add(host) }, "tensor: Add: operands are on different devices (cuda:0 and cpu); move one with .To(cuda:0) first"},
		{"Sub", func() { host.Sub(x) }, "tensor: Sub: operands are on different devices (cpu and cuda:0); move one with .To(cpu) first"},
		{"Eq", func() { x.Eq(host) }, "tensor: Eq: operands are on different devices"},
		{"MatMul", func() { x.MatMul(host.T()) }, "tensor: MatMul: operands are on different devices (cuda:0 and cpu)"},
		{"Cat", func() { tensor.Cat([]*tensor.Tensor{x, host}, 0) }, "tensor: Cat: operands are on different devices"},
		{"Stack", func() { tensor.Stack([]*tensor.Tensor{host, x}, 0) }, "tensor: Stack: operands are on different devices (cpu and cuda:0)"},
		{"Where", func() { tensor.Where(host.Gt(0), x, 0) }, "tensor: Where: operands are on different devices (cpu and cuda:0)"},
		{"IndexSelect", func() { x.IndexSelect(0, tensor.FromSlice([]int64{0})) }, "tensor: IndexSelect: operands are on different devices"},
		{"Gather", func() { x.Gather(0, tensor.FromSlice([]int64{0}, 1, 1)) }, "tensor: Gather: operands are on different devices"},
		{"ScatterAdd", func() {
			x.ScatterAdd(0, tensor.FromSlice([]int64{0}, 1, 1).To(gpu), host.Narrow(0, 0, 1).Narrow(1, 0, 1))
		}, "tensor: ScatterAdd: operands are on different devices"},
		{"IndexAdd", func() { x.IndexAdd(0, tensor.FromSlice([]int64{0}), host.Narrow(0, 0, 1)) }, "tensor: IndexAdd: operands are on different devices"},
		{"CopyFrom", func() { x.CopyFrom(host) }, "tensor: CopyFrom: operands are on different devices"},
		{"MaskedFill", func() { x.MaskedFill(host.Gt(1), 0) }, "tensor: MaskedFill: operands are on different devices"},
	}
	for _, tc := range mixed {
		err := requireFails(t, tensor.ErrDevice, tc.f, tc.msg)
		require.Contains(t, err.Error(), ".To(", tc.name)
	}

	// Printing names the device.
	require.Equal(t, "tensor([1., 2.], device='cuda:0')", tensor.FromSlice([]float32{1, 2}).To(gpu).String())
	require.Equal(t, "tensor([1., 2.], device='cuda:0', dtype=float64)", tensor.FromSlice([]float64{1, 2}).To(gpu).String())
	require.Equal(t, "tensor([], device='cuda:0', dtype=int64)", tensor.FromSlice([]int64{}).To(gpu).String())
	require.True(t, math.IsNaN(tensor.FromSlice([]float32{float32(math.NaN())}).To(gpu).Item()))
}
