package backend

import (
	"fmt"

	"github.com/nabla-go/nabla/device"
)

// BiasActivationOps are the activations device.Backend.BiasActivation applies
// after adding the bias: the ones that follow a fully connected layer. A
// fused kernel exists for each of them and for AddScalar, which with
// alpha 0 means "the bias alone".
var BiasActivationOps = []device.UnaryOp{device.Relu, device.LeakyRelu, device.Sigmoid, device.Tanh, device.Elu, device.Softplus, device.Gelu}

// IsBiasActivation reports whether device.Backend.BiasActivation accepts op.
func IsBiasActivation(op device.UnaryOp) bool {
	if op == device.AddScalar {
		return true
	}
	for _, o := range BiasActivationOps {
		if o == op {
			return true
		}
	}
	return false
}

// BiasOnly reports whether BiasActivation with op and alpha adds the bias
// and nothing else. It is then exactly Binary(Add): no "+ 0" is applied,
// which would turn a -0 sum into +0.
func BiasOnly(op device.UnaryOp, alpha float64) bool { return op == device.AddScalar && alpha == 0 }

// CheckBiasActivation validates the operands of device.Backend.BiasActivation:
// dst and src are [M, N] views of one float dtype, bias is an [N] view of
// the same dtype, and op is one of the accepted activations. It does not
// look for overlap: the caller passes dst == src or disjoint views.
func CheckBiasActivation(name string, op device.UnaryOp, dst, src, bias device.View) error {
	if !IsBiasActivation(op) {
		return fmt.Errorf("%s: %v is not a bias activation (want one of %v or add_scalar)", name, op, BiasActivationOps)
	}
	for _, o := range []struct {
		what string
		v    device.View
	}{{"destination", dst}, {"source", src}, {"bias", bias}} {
		if o.v.Buf == nil {
			return fmt.Errorf("%s: the %s is missing", name, o.what)
		}
		if len(o.v.Strides) != len(o.v.Shape) {
			return fmt.Errorf("%s: the %s has %d strides for shape %v", name, o.what, len(o.v.Strides), o.v.Shape)
		}
	}
	dt := dst.Buf.DType()
	if dt != device.Float32 && dt != device.Float64 {
		return fmt.Errorf("%s is not implemented for %v (float32 and float64 only)", name, dt)
	}
	if src.Buf.DType() != dt || bias.Buf.DType() != dt {
		return fmt.Errorf("%s: dtypes destination %v, source %v, bias %v differ", name, dt, src.Buf.DType(), bias.Buf.DType())
	}
	if dst.Rank() != 2 || src.Rank() != 2 || dst.Shape[0] != src.Shape[0] || dst.Shape[1] != src.Shape[1] {
		return fmt.Errorf("%s: destination %v and source %v must be [M, N] views of one shape", name, dst.Shape, src.Shape)
	}
	if bias.Rank() != 1 || bias.Shape[0] != dst.Shape[1] {
		return fmt.Errorf("%s: bias of shape %v does not match the %d columns of the destination %v", name, bias.Shape, dst.Shape[1], dst.Shape)
	}
	return nil
}
