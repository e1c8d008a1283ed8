package device

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"
)

var errIntDivZero = errors.New("device: cpu: integer division by zero")

func (c *host) Binary(op BinaryOp, dst, a, b View) error {
	if op >= numBinaryOps {
		return fmt.Errorf("device: cpu: unknown binary op %d", op)
	}
	name := "binary " + op.String()
	dt := a.Buf.DType()
	switch {
	case op.IsComparison():
		switch dt {
		case Float32:
			return runCompare[float32](name, op, dst, a, b)
		case Float64:
			return runCompare[float64](name, op, dst, a, b)
		case Int64:
			return runCompare[int64](name, op, dst, a, b)
		case Uint8:
			return runCompare[uint8](name, op, dst, a, b)
		case Bool:
			if op == Eq || op == Ne {
				return runBinary(name, dst, a, b, func(d, x, y []bool) {
					for i := range d {
						d[i] = (x[i] == y[i]) == (op == Eq)
					}
				})
			}
		}
	case op.IsLogical():
		if dt == Bool {
			return runBinary(name, dst, a, b, logical(op))
		}
	default:
		switch dt {
		case Float32:
			return runBinary(name, dst, a, b, floatBinary[float32](op))
		case Float64:
			return runBinary(name, dst, a, b, floatBinary[float64](op))
		case Int64:
			return runIntBinary[int64](name, op, dst, a, b)
		case Uint8:
			return runIntBinary[uint8](name, op, dst, a, b)
		}
	}
	return unsupported(name, dt)
}

func runBinary[D, S any](name string, dst, a, b View, kernel func(d []D, x, y []S)) error {
	d, err := slice[D](name, dst)
	if err != nil {
		return err
	}
	x, err := slice[S](name, a)
	if err != nil {
		return err
	}
	y, err := slice[S](name, b)
	if err != nil {
		return err
	}
	map2(d, dst.Layout, x, a.Layout, y, b.Layout, kernel)
	return nil
}

func floatBinary[T float](op BinaryOp) func(d, x, y []T) {
	switch op {
	case Add:
		return func(d, x, y []T) {
			y = y[:len(d)]
			x = x[:len(d)]
			for i := range d {
				d[i] = x[i] + y[i]
			}
		}
	case Sub:
		return func(d, x, y []T) {
			y = y[:len(d)]
			x = x[:len(d)]
			for i := range d {
				d[i] = x[i] - y[i]
			}
		}
	case Mul:
		return func(d, x, y []T) {
			y = y[:len(d)]
			x = x[:len(d)]
			for i := range d {
				d[i] = x[i] * y[i]
			}
		}
	case Div:
		return func(d, x, y []T) {
			y = y[:len(d)]
			x = x[:len(d)]
			for i := range d {
				d[i] = x[i] / y[i]
			}
		}
	case Pow:
		return func(d, x, y []T) {
			for i := range d {
				d[i] = T(math.Pow(float64(x[i]), float64(y[i])))
			}
		}
	case Minimum:
		return func(d, x, y []T) {
			for i := range d {
				d[i] = min(x[i], y[i]) // Go's min propagates NaN, as PyTorch does
			}
		}
	case Maximum:
		return func(d, x, y []T) {
			for i := range d {
				d[i] = max(x[i], y[i])
			}
		}
	}
	return func(d, x, y []T) { panic("device: unreachable binary op " + op.String()) }
}

func runIntBinary[T integer](name string, op BinaryOp, dst, a, b View) error {
	var divZero atomic.Bool
	var kernel func(d, x, y []T)
	switch op {
	case Add:
		kernel = func(d, x, y []T) {
			for i := range d {
				d[i] = x[i] + y[i]
			}
		}
	case Sub:
		kernel = func(d, x, y []T) {
			for i := range d {
				d[i] = x[i] - y[i]
			}
		}
	case Mul:
		kernel = func(d, x, y []T) {
			for i := range d {
				d[i] = x[i] * y[i]
			}
		}
	case Div:
		kernel = func(d, x, y []T) {
			for i := range d {
				if y[i] == 0 {
					divZero.Store(true)
					d[i] = 0
					continue
				}
				d[i] = x[i] / y[i]
			}
		}
	case Minimum:
		kernel = func(d, x, y []T) {
			for i := range d {
				d[i] = min(x[i], y[i])
			}
		}
	case Maximum:
		kernel = func(d, x, y []T) {
			for i := range d {
				d[i] = max(x[i], y[i])
			}
		}
	default:
		return unsupported(name, a.Buf.DType())
	}
	if err := runBinary(name, dst, a, b, kernel); err != nil {
		return err
	}
	if divZero.Load() {
		return errIntDivZero
	}
	return nil
}

func runCompare[T number](name string, op BinaryOp, dst, a, b View) error {
	var kernel func(d []bool, x, y []T)
	switch op {
	case Eq:
		kernel = func(d []bool, x, y []T) {
			for i := range d {
				d[i] = x[i] == y[i]
			}
		}
	case Ne:
		kernel = func(d []bool, x, y []T) {
			for i := range d {
				d[i] = x[i] != y[i]
			}
		}
	case Lt:
		kernel = func(d []bool, x, y []T) {
			for i := range d {
				d[i] = x[i] < y[i]
			}
		}
	case Le:
		kernel = func(d []bool, x, y []T) {
			for i := range d {
				d[i] = x[i] <= y[i]
			}
		}
	case Gt:
		kernel = func(d []bool, x, y []T) {
			for i := range d {
				d[i] = x[i] > y[i]
			}
		}
	default:
		kernel = func(d []bool, x, y []T) {
			for i := range d {
				d[i] = x[i] >= y[i]
			}
		}
	}
	return runBinary(name, dst, a, b, kernel)
}

func logical(op BinaryOp) func(d, x, y []bool) {
	return func(d, x, y []bool) {
		for i := range d {
			switch op {
			case And:
				d[i] = x[i] && y[i]
			case Or:
				d[i] = x[i] || y[i]
			default:
				d[i] = x[i] != y[i]
			}
		}
	}
}

func (c *host) Where(dst, cond, a, b View) error {
	switch dst.Buf.DType() {
	case Float32:
		return runWhere[float32](dst, cond, a, b)
	case Float64:
		return runWhere[float64](dst, cond, a, b)
	case Int64:
		return runWhere[int64](dst, cond, a, b)
	case Bool:
		return runWhere[bool](dst, cond, a, b)
	case Uint8:
		return runWhere[uint8](dst, cond, a, b)
	}
	return unsupported("where", dst.Buf.DType())
}

func runWhere[T any](dst, cond, a, b View) error {
	d, err := slice[T]("where", dst)
	if err != nil {
		return err
	}
	c, err := slice[bool]("where", cond)
	if err != nil {
		return err
	}
	x, err := slice[T]("where", a)
	if err != nil {
		return err
	}
	y, err := slice[T]("where", b)
	if err != nil {
		return err
	}
	map3(d, dst.Layout, c, cond.Layout, x, a.Layout, y, b.Layout, func(d []T, c []bool, x, y []T) {
		for i := range d {
			if c[i] {
				d[i] = x[i]
			} else {
				d[i] = y[i]
			}
		}
	})
	return nil
}
