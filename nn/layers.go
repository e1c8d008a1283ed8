package nn

import (
	"fmt"
	"math"
	"strings"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/tensor"
)

// Option adjusts a layer constructor: NoBias for Linear and Conv2d;
// Stride, Padding and Dilation for Conv2d; Padding for the pooling layers.
// Giving a layer an option it has no use for panics.
type Option func(*layerConfig)

type layerConfig struct {
	noBias                bool
	stride, pad, dilation [2]int
	used                  []string // the options given, for error messages
}

// NoBias leaves out the bias of Linear or Conv2d (bias=False).
func NoBias() Option {
	return func(c *layerConfig) { c.noBias = true; c.used = append(c.used, "NoBias") }
}

// Stride sets the step of Conv2d's window in both directions (default 1).
func Stride(s int) Option { return StrideHW(s, s) }

// StrideHW sets the vertical and horizontal step of Conv2d's window.
func StrideHW(h, w int) Option {
	return func(c *layerConfig) { c.stride = [2]int{h, w}; c.used = append(c.used, "Stride") }
}

// Padding adds p implicit elements on every side of the input of Conv2d
// (zeros), MaxPool2d (-∞) or AvgPool2d (zeros, counted in the average).
func Padding(p int) Option { return PaddingHW(p, p) }

// PaddingHW sets the vertical and horizontal padding.
func PaddingHW(h, w int) Option {
	return func(c *layerConfig) { c.pad = [2]int{h, w}; c.used = append(c.used, "Padding") }
}

// Dilation spaces Conv2d's kernel taps d apart (default 1).
func Dilation(d int) Option { return DilationHW(d, d) }

// DilationHW sets the vertical and horizontal dilation.
func DilationHW(h, w int) Option {
	return func(c *layerConfig) { c.dilation = [2]int{h, w}; c.used = append(c.used, "Dilation") }
}

// configure applies opts, panicking when one is not in allowed.
func configure(layer string, opts []Option, allowed ...string) layerConfig {
	var c layerConfig
	for _, o := range opts {
		o(&c)
	}
	for _, u := range c.used {
		ok := false
		for _, a := range allowed {
			ok = ok || a == u
		}
		if !ok {
			panic(&tensor.Error{Op: layer, Kind: tensor.ErrArgument,
				Msg: fmt.Sprintf("option %s does not apply (valid: %s)", u, strings.Join(allowed, ", "))})
		}
	}
	return c
}

// check panics when a given stride or dilation is below 1 or a padding is
// negative.
func (c layerConfig) check(op string) {
	for _, u := range c.used {
		var v [2]int
		least := 1
		switch u {
		case "Stride":
			v = c.stride
		case "Dilation":
			v = c.dilation
		case "Padding":
			v, least = c.pad, 0
		default:
			continue
		}
		if v[0] < least || v[1] < least {
			panic(&tensor.Error{Op: op, Kind: tensor.ErrArgument, Msg: fmt.Sprintf("%s %v must be at least %d", strings.ToLower(u), v, least)})
		}
	}
}

func positive(op string, what string, v int) {
	if v < 1 {
		panic(&tensor.Error{Op: op, Kind: tensor.ErrArgument, Msg: fmt.Sprintf("%s must be at least 1, got %d", what, v)})
	}
}

// LinearModule is the fully connected layer y = x·Wᵀ + b made by Linear.
type LinearModule struct {
	Base
	// Weight is [out, in]; Bias is [out], or nil without a bias.
	Weight, Bias *autograd.Var
	In, Out      int
}

// Linear returns a fully connected layer from in to out features
// (torch.nn.Linear): weight [out, in] and bias [out], initialised as
// PyTorch does: kaiming_uniform with a = √5, which is U(-1/√in, 1/√in),
// for the weight and U(-1/√in, 1/√in) for the bias, drawn in that order
// from the default generator: after tensor.ManualSeed(s) the parameters
// are the ones torch.manual_seed(s); nn.Linear(in, out) creates, bit for
// bit. Pass NoBias() to leave the bias out. Parameters are Float32 on the
// CPU; use To and Cast.
func Linear(in, out int, opts ...Option) *LinearModule {
	positive("Linear", "in", in)
	positive("Linear", "out", out)
	c := configure("Linear", opts, "NoBias")
	m := &LinearModule{In: in, Out: out}
	m.Weight = m.RegisterParameter("weight", autograd.Param(tensor.Empty(out, in)))
	KaimingUniform(m.Weight, math.Sqrt(5), FanIn)
	if !c.noBias {
		bound := 1 / math.Sqrt(float64(in))
		m.Bias = m.RegisterParameter("bias", autograd.Param(tensor.Empty(out)))
		InitUniform(m.Bias, -bound, bound)
	}
	return m
}

// Forward returns x·Wᵀ + b for x of shape [..., in].
func (m *LinearModule) Forward(x *autograd.Var) *autograd.Var {
	m.checkInput(x, "")
	return observe(m, autograd.Linear(x, m.Weight, m.Bias))
}

// To moves the parameters to dev and returns m.
func (m *LinearModule) To(dev device.Device) Module { m.MoveTo(dev); return m }

// String prints the layer like PyTorch's repr.
func (m *LinearModule) String() string {
	return fmt.Sprintf("Linear(in_features=%d, out_features=%d, bias=%s)", m.In, m.Out, pyBool(m.Bias != nil))
}

// Conv2dModule is the 2-D convolution layer made by Conv2d.
type Conv2dModule struct {
	Base
	// Weight is [out, in, kernel, kernel]; Bias is [out] or nil.
	Weight, Bias *autograd.Var
	In, Out      int
	Kernel       int
	Options      autograd.Conv2dOptions
}

// Conv2d returns a 2-D convolution layer from in to out channels with a
// square kernel (torch.nn.Conv2d): options Stride, Padding, Dilation (and
// their HW forms) and NoBias. Weight [out, in, k, k] and bias [out] are
// initialised as PyTorch does: U(-1/√fanIn, 1/√fanIn) with fanIn = in·k·k,
// the weight first, with PyTorch's numbers after tensor.ManualSeed.
func Conv2d(in, out, kernel int, opts ...Option) *Conv2dModule {
	positive("Conv2d", "in", in)
	positive("Conv2d", "out", out)
	positive("Conv2d", "kernel", kernel)
	c := configure("Conv2d", opts, "NoBias", "Stride", "Padding", "Dilation")
	m := &Conv2dModule{In: in, Out: out, Kernel: kernel,
		Options: autograd.Conv2dOptions{Stride: c.stride, Padding: c.pad, Dilation: c.dilation}}
	c.check("Conv2d")
	m.Weight = m.RegisterParameter("weight", autograd.Param(tensor.Empty(out, in, kernel, kernel)))
	KaimingUniform(m.Weight, math.Sqrt(5), FanIn)
	if !c.noBias {
		bound := 1 / math.Sqrt(float64(in*kernel*kernel))
		m.Bias = m.RegisterParameter("bias", autograd.Param(tensor.Empty(out)))
		InitUniform(m.Bias, -bound, bound)
	}
	return m
}

// Forward convolves x [N, in, H, W] into [N, out, OH, OW].
func (m *Conv2dModule) Forward(x *autograd.Var) *autograd.Var {
	m.checkInput(x, "")
	return observe(m, autograd.Conv2d(x, m.Weight, m.Bias, m.Options))
}

// To moves the parameters to dev and returns m.
func (m *Conv2dModule) To(dev device.Device) Module { m.MoveTo(dev); return m }

// String prints the layer like PyTorch's repr.
func (m *Conv2dModule) String() string {
	s := fmt.Sprintf("Conv2d(%d, %d, kernel_size=(%d, %d), stride=%s", m.In, m.Out, m.Kernel, m.Kernel, pair(m.Options.Stride, 1))
	if m.Options.Padding != [2]int{} {
		s += ", padding=" + pair(m.Options.Padding, 0)
	}
	if d := m.Options.Dilation; d != [2]int{} && d != [2]int{1, 1} {
		s += ", dilation=" + pair(d, 1)
	}
	if m.Bias == nil {
		s += ", bias=False"
	}
	return s + ")"
}

// pair prints (h, w), reading zeros as def.
func pair(p [2]int, def int) string {
	for i := range p {
		if p[i] == 0 {
			p[i] = def
		}
	}
	return fmt.Sprintf("(%d, %d)", p[0], p[1])
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// PoolModule is a pooling layer made by MaxPool2d or AvgPool2d.
type PoolModule struct {
	Base
	Max     bool // max pooling; average pooling otherwise
	Options autograd.Pool2dOptions
}

func newPool(name string, max bool, kernel, stride int, opts []Option) *PoolModule {
	positive(name, "kernel", kernel)
	if stride < 0 {
		panic(&tensor.Error{Op: name, Kind: tensor.ErrArgument, Msg: fmt.Sprintf("stride must not be negative, got %d", stride)})
	}
	if stride == 0 {
		stride = kernel
	}
	c := configure(name, opts, "Padding")
	c.check(name)
	return &PoolModule{Max: max, Options: autograd.Pool2dOptions{
		Kernel: [2]int{kernel, kernel}, Stride: [2]int{stride, stride}, Padding: c.pad}}
}

// MaxPool2d returns a layer that takes the maximum of each kernel × kernel
// window, stepping stride (0 means kernel, PyTorch's default) over an
// [N, C, H, W] input (torch.nn.MaxPool2d). Option: Padding.
func MaxPool2d(kernel, stride int, opts ...Option) *PoolModule {
	return newPool("MaxPool2d", true, kernel, stride, opts)
}

// AvgPool2d returns a layer that averages each kernel × kernel window,
// stepping stride (0 means kernel) over an [N, C, H, W] input
// (torch.nn.AvgPool2d). Option: Padding (zeros, counted in the average).
func AvgPool2d(kernel, stride int, opts ...Option) *PoolModule {
	return newPool("AvgPool2d", false, kernel, stride, opts)
}

// Forward pools x.
func (m *PoolModule) Forward(x *autograd.Var) *autograd.Var {
	if m.Max {
		return observe(m, autograd.MaxPool2d(x, m.Options))
	}
	return observe(m, autograd.AvgPool2d(x, m.Options))
}

// To returns m: pooling holds no state.
func (m *PoolModule) To(dev device.Device) Module { return m }

// String prints the layer like PyTorch's repr.
func (m *PoolModule) String() string {
	o := m.Options
	if m.Max {
		return fmt.Sprintf("MaxPool2d(kernel_size=%d, stride=%d, padding=%d, dilation=1, ceil_mode=False)", o.Kernel[0], o.Stride[0], o.Padding[0])
	}
	return fmt.Sprintf("AvgPool2d(kernel_size=%d, stride=%d, padding=%d)", o.Kernel[0], o.Stride[0], o.Padding[0])
}

// FlattenModule is the layer made by Flatten.
type FlattenModule struct{ Base }

// Flatten returns a layer that flattens every dimension but the first (the
// batch): [N, C, H, W] becomes [N, C·H·W] (torch.nn.Flatten).
func Flatten() *FlattenModule { return &FlattenModule{} }

// Forward flattens dimensions 1 to the last; like PyTorch it panics for a
// 1-D input, which has no dimension 1.
func (m *FlattenModule) Forward(x *autograd.Var) *autograd.Var {
	return observe(m, x.FlattenDims(1, -1))
}

// To returns m: Flatten holds no state.
func (m *FlattenModule) To(dev device.Device) Module { return m }

// String prints the layer like PyTorch's repr.
func (m *FlattenModule) String() string { return "Flatten(start_dim=1, end_dim=-1)" }

// DropoutModule is the layer made by Dropout.
type DropoutModule struct {
	Base
	P float64 // the probability of zeroing an element
}

// Dropout returns a layer that, in training mode, zeroes each element with
// probability p and scales the rest by 1/(1-p) (inverted dropout,
// torch.nn.Dropout); in evaluation mode it is the identity. Masks come
// from the default generator, so tensor.ManualSeed makes them
// reproducible.
func Dropout(p float64) *DropoutModule {
	if !(p >= 0 && p <= 1) {
		panic(&tensor.Error{Op: "Dropout", Kind: tensor.ErrArgument, Msg: fmt.Sprintf("probability %v is outside [0, 1]", p)})
	}
	return &DropoutModule{P: p}
}

// Forward drops elements of x in training mode and returns x in
// evaluation mode.
func (m *DropoutModule) Forward(x *autograd.Var) *autograd.Var {
	if !m.Training() {
		return observe(m, x)
	}
	return observe(m, autograd.Dropout(x, m.P, nil))
}

// To returns m: Dropout holds no state.
func (m *DropoutModule) To(dev device.Device) Module { return m }

// String prints the layer like PyTorch's repr.
func (m *DropoutModule) String() string { return fmt.Sprintf("Dropout(p=%v, inplace=False)", m.P) }
