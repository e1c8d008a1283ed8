package tensor

import (
	"fmt"

	"github.com/nabla-go/nabla/device"
)

// BroadcastShapes returns the shape that shapes broadcast to under NumPy's
// rules (align at the right; each dimension equal or 1), or an error.
func BroadcastShapes(shapes ...[]int) ([]int, error) {
	rank := 0
	for _, s := range shapes {
		rank = max(rank, len(s))
	}
	out := make([]int, rank)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		for i, d := range s {
			j := rank - len(s) + i
			switch {
			case d < 0:
				return nil, &Error{Op: "Broadcast", Kind: ErrShape, Msg: "negative dimension"}
			case out[j] == d || d == 1:
			case out[j] == 1:
				out[j] = d
			default:
				return nil, &Error{Op: "Broadcast", Kind: ErrShape,
					Msg: "shapes " + shapeList(shapes) + " do not broadcast (dimension " + itoa(j-rank) + ": " + itoa(out[j]) + " vs " + itoa(d) + ")"}
			}
		}
	}
	if _, err := device.CheckedNumel(out); err != nil {
		return nil, &Error{Op: "Broadcast", Kind: ErrShape, Cause: err,
			Msg: "shapes " + shapeList(shapes) + " broadcast to " + fmt.Sprint(out) + ", which has too many elements: their number overflows int"}
	}
	return out, nil
}

// broadcast returns the common shape of the operands of op, panicking with
// ErrShape when there is none.
func broadcast(op string, ts ...*Tensor) []int {
	shapes := make([][]int, len(ts))
	for i, t := range ts {
		shapes[i] = t.layout.Shape
	}
	out, err := BroadcastShapes(shapes...)
	if err != nil {
		e := err.(*Error)
		e.Op = op
		panic(e)
	}
	return out
}

// expandLayout presents l with shape (which l broadcasts to) using zero
// strides for broadcast dimensions.
func expandLayout(l device.Layout, shape []int) (device.Layout, bool) {
	lead := len(shape) - len(l.Shape)
	if lead < 0 {
		return device.Layout{}, false
	}
	out := device.Layout{Shape: append([]int(nil), shape...), Strides: make([]int, len(shape)), Offset: l.Offset}
	for i := range l.Shape {
		switch {
		case l.Shape[i] == shape[lead+i]:
			out.Strides[lead+i] = l.Strides[i]
		case l.Shape[i] == 1:
			out.Strides[lead+i] = 0
		default:
			return device.Layout{}, false
		}
	}
	return out, true
}

// viewAs returns t's backend operand broadcast to shape.
func (t *Tensor) viewAs(shape []int) device.View {
	l, ok := expandLayout(t.layout, shape)
	if !ok {
		fail("Broadcast", ErrShape, "shape %v does not broadcast to %v", t.layout.Shape, shape)
	}
	return device.View{Buf: t.buf, Layout: l}
}
