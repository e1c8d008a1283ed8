package backend

import (
	"fmt"

	"github.com/nabla-go/nabla/device"
)

// CheckCrossEntropy validates the operands of device.Backend.CrossEntropy: x is
// an [M, C] float view, labels an Int64 [M] view, and loss and lse are
// [M] views of x's dtype. Backends call it before they touch memory; the
// labels' values are the backend's to check.
func CheckCrossEntropy(op string, loss, lse, x, labels device.View) error {
	return checkCrossEntropy(op, x, labels, []namedView{{"loss", loss}, {"lse", lse}})
}

// CheckCrossEntropyBackward validates the operands of
// device.Backend.CrossEntropyBackward: dx and x are [M, C] views of one float
// dtype, labels an Int64 [M] view, and lse and g [M] views of x's dtype.
func CheckCrossEntropyBackward(op string, dx, x, lse, labels, g device.View) error {
	if err := checkCrossEntropy(op, x, labels, []namedView{{"lse", lse}, {"g", g}}); err != nil {
		return err
	}
	if dx.Buf == nil {
		return fmt.Errorf("%s: the gradient dx is missing", op)
	}
	if dx.Buf.DType() != x.Buf.DType() {
		return fmt.Errorf("%s: gradient dx has dtype %v, the logits x %v", op, dx.Buf.DType(), x.Buf.DType())
	}
	if dx.Rank() != 2 || dx.Shape[0] != x.Shape[0] || dx.Shape[1] != x.Shape[1] {
		return fmt.Errorf("%s: gradient dx has shape %v, the logits x %v; they must match", op, dx.Shape, x.Shape)
	}
	return nil
}

// namedView is an operand with the name its errors use.
type namedView struct {
	name string
	v    device.View
}

func checkCrossEntropy(op string, x, labels device.View, rows []namedView) error {
	if x.Buf == nil || labels.Buf == nil {
		return fmt.Errorf("%s: the logits x and the labels are required", op)
	}
	dt := x.Buf.DType()
	if dt != device.Float32 && dt != device.Float64 {
		return fmt.Errorf("%s is not implemented for %v logits (want float32 or float64)", op, dt)
	}
	if x.Rank() != 2 {
		return fmt.Errorf("%s: logits x must be an [M, C] view, got shape %v", op, x.Shape)
	}
	m, c := x.Shape[0], x.Shape[1]
	if c == 0 && m > 0 {
		return fmt.Errorf("%s: logits x of shape %v have no classes, so no label can be valid", op, x.Shape)
	}
	if labels.Buf.DType() != device.Int64 {
		return fmt.Errorf("%s: labels must be int64, got %v", op, labels.Buf.DType())
	}
	if labels.Rank() != 1 || labels.Shape[0] != m {
		return fmt.Errorf("%s: labels of shape %v do not match logits x of shape %v (want [%d])", op, labels.Shape, x.Shape, m)
	}
	for _, r := range rows {
		if r.v.Buf == nil {
			return fmt.Errorf("%s: %s is missing", op, r.name)
		}
		if r.v.Buf.DType() != dt {
			return fmt.Errorf("%s: %s has dtype %v, the logits x %v", op, r.name, r.v.Buf.DType(), dt)
		}
		if r.v.Rank() != 1 || r.v.Shape[0] != m {
			return fmt.Errorf("%s: %s has shape %v, want [%d] (one value per row of x, shape %v)", op, r.name, r.v.Shape, m, x.Shape)
		}
	}
	return nil
}
