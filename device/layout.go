package device

// Layout describes how a logical n-dimensional array maps onto a flat
// buffer: element (i0, i1, ...) lives at Offset + i0*Strides[0] + i1*Strides[1] + ...
// Strides are counted in elements, not bytes, and may be zero (broadcast
// dimensions) but never negative.
type Layout struct {
	Shape   []int
	Strides []int
	Offset  int
}

// Contiguous returns the row-major layout of shape starting at offset 0.
func Contiguous(shape ...int) Layout {
	return Layout{Shape: shape, Strides: ContiguousStrides(shape)}
}

// ContiguousStrides returns the row-major strides of shape.
func ContiguousStrides(shape []int) []int {
	strides := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		strides[i] = s
		s *= shape[i]
	}
	return strides
}

// Numel is the number of elements the layout addresses.
func (l Layout) Numel() int { return Numel(l.Shape) }

// Rank is the number of dimensions.
func (l Layout) Rank() int { return len(l.Shape) }

// IsContiguous reports whether the layout visits its elements in row-major
// order with no gaps, so the data is Buffer[Offset : Offset+Numel].
func (l Layout) IsContiguous() bool {
	s := 1
	for i := len(l.Shape) - 1; i >= 0; i-- {
		if l.Shape[i] == 1 {
			continue
		}
		if l.Strides[i] != s {
			return false
		}
		s *= l.Shape[i]
	}
	return true
}

// Span is the number of buffer elements from Offset to one past the last
// element addressed; a buffer must hold at least Offset+Span elements.
func (l Layout) Span() int {
	if l.Numel() == 0 {
		return 0
	}
	last := 0
	for i, d := range l.Shape {
		last += (d - 1) * l.Strides[i]
	}
	return last + 1
}

// Clone returns a deep copy whose slices do not alias l's.
func (l Layout) Clone() Layout {
	return Layout{
		Shape:   append([]int(nil), l.Shape...),
		Strides: append([]int(nil), l.Strides...),
		Offset:  l.Offset,
	}
}
