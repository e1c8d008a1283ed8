package device

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// ErrSize reports a shape or a byte count too large to compute: an element
// count, a stride or a size in bytes that would overflow int.
var ErrSize = errors.New("device: size overflows int")

// CheckedNumel returns the number of elements of shape (1 for a scalar),
// or an error wrapping ErrSize when a dimension is negative or the sizes
// overflow int. Besides the element count it checks the product of the
// dimensions with zeros counted as ones, the largest row-major stride a
// layout of shape can have, so that a shape it accepts can be laid out
// (ContiguousStrides) and addressed without overflow even when it holds
// no elements: [0, 1<<62, 1<<62] is refused although its product is 0.
func CheckedNumel(shape []int) (int, error) {
	n, span := uint64(1), uint64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("%w: shape %v has a negative dimension", ErrSize, shape)
		}
		hi, lo := bits.Mul64(span, uint64(max(d, 1)))
		if hi != 0 || lo > math.MaxInt {
			return 0, fmt.Errorf("%w: shape %v has more than %d elements", ErrSize, shape, math.MaxInt)
		}
		span = lo
		n *= uint64(d) // n <= span, so it cannot overflow either
	}
	return int(n), nil
}

// ByteSize returns the number of bytes n elements of dt occupy, or an
// error wrapping ErrSize when n is negative or the product overflows
// int.
func ByteSize(dt DType, n int) (int, error) {
	size := dt.Size()
	if size == 0 {
		return 0, fmt.Errorf("device: unknown dtype %v", dt)
	}
	if n < 0 || n > math.MaxInt/size {
		return 0, fmt.Errorf("%w: %d elements of %v do not fit in %d bytes", ErrSize, n, dt, math.MaxInt)
	}
	return n * size, nil
}

// Numel returns the product of the dimensions of shape (1 for a scalar).
//
// The shape must be valid (see CheckedNumel): every shape package tensor
// builds has been checked. An invalid one is a bug in the caller, and
// Numel panics with an error wrapping ErrSize rather than return a
// wrapped-around count that would make a huge tensor look small.
func Numel(shape []int) int {
	n := 1
	for _, d := range shape {
		hi, lo := bits.Mul64(uint64(n), uint64(d))
		if d < 0 || hi != 0 || lo > math.MaxInt {
			_, err := CheckedNumel(shape)
			panic(err)
		}
		n = int(lo)
	}
	return n
}
