package cpu

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/nabla-go/nabla/device"
)

var errIntDivZero = errors.New("device: cpu: integer division by zero")

func (c *host) Binary(op device.BinaryOp, dst, a, b device.View) error {
	if !op.Valid() {
		return fmt.Errorf("device: cpu: unknown binary op %d", op)
	}
	name := "binary " + op.String()
	dt := a.Buf.DType()
	switch {
	case op.IsComparison():
		switch dt {
		case device.Float32:
			return runCompare[float32](name, op, dst, a, b)
		case device.Float64:
			return runCompare[float64](name, op, dst, a, b)
		case device.Int64:
			return runCompare[int64](name, op, dst, a, b)
		case device.Uint8:
			return runCompare[uint8](name, op, dst, a, b)
		case device.Bool:
			if op == device.Eq || op == device.Ne {
				return runBinary(name, dst, a, b, func(d, x, y []bool) {
					for i := range d {
						d[i] = (x[i] == y[i]) == (op == device.Eq)
					}
				})
			}
		}
	case op.IsLogical():
		if dt == device.Bool {
			return runBinary(name, dst, a, b, logical(op))
		}
	default:
		switch dt {
		case device.Float32:
			return runBinary(name, dst, a, b, floatBinary[float32](op))
		case device.Float64:
			return runBinary(name, dst, a, b, floatBinary[float64](op))
		case device.Int64:
			return runIntBinary[int64](name, op, dst, a, b)
		case device.Uint8:
			return runIntBinary[uint8](name, op, dst, a, b)
		}
	}
	return unsupported(name, dt)
}

func runBinary[D, S any](name string, dst, a, b device.View, kernel func(d []D, x, y []S)) error {
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

func floatBinary[T float](op device.BinaryOp) func(d, x, y []T) {
	switch op {
	case device.Add:
		return func(d, x, y []T) {
			y = y[:len(d)]
			x = x[:len(d)]
			for i := range d {
				d[i] = x[i] + y[i]
			}
		}
	case device.Sub:
		return func(d, x, y []T) {
			y = y[:len(d)]
			x = x[:len(d)]
			for i := range d {
				d[i] = x[i] - y[i]
			}
		}
	case device.Mul:
		return func(d, x, y []T) {
			y = y[:len(d)]
			x = x[:len(d)]
			for i := range d {
				d[i] = x[i] * y[i]
			}
		}
	case device.Div:
		return func(d, x, y []T) {
			y = y[:len(d)]
			x = x[:len(d)]
			for i := range d {
				d[i] = x[i] / y[i]
			}
		}
	case device.Pow:
		return func(d, x, y []T) {
			for i := range d {
				d[i] = T(math.Pow(float64(x[i]), float64(y[i])))
			}
		}
	case device.Minimum:
		return func(d, x, y []T) {
			for i := range d {
				d[i] = min(x[i], y[i]) // Go's min propagates NaN, as PyTorch does
			}
		}
	case device.Maximum:
		return func(d, x, y []T) {
			for i := range d {
				d[i] = max(x[i], y[i])
			}
		}
	}
	return func(d, x, y []T) { panic("device: unreachable binary op " + op.String()) }
}

func runIntBinary[T integer](name string, op device.BinaryOp, dst, a, b device.View) error {
	var divZero atomic.Bool
	var kernel func(d, x, y []T)
	switch op {
	case device.Add:
		kernel = func(d, x, y []T) {
			for i := range d {
				d[i] = x[i] + y[i]
			}
		}
	case device.Sub:
		kernel = func(d, x, y []T) {
			for i := range d {
				d[i] = x[i] - y[i]
			}
		}
	case device.Mul:
		kernel = func(d, x, y []T) {
			for i := range d {
				d[i] = x[i] * y[i]
			}
		}
	case device.Div:
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
	case device.Minimum:
		kernel = func(d, x, y []T) {
			for i := range d {
				d[i] = min(x[i], y[i])
			}
		}
	case device.Maximum:
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

func runCompare[T number](name string, op device.BinaryOp, dst, a, b device.View) error {
	var kernel func(d []bool, x, y []T)
	switch op {
	case device.Eq:
		kernel = func(d []bool, x, y []T) {
			for i := range d {
				d[i] = x[i] == y[i]
			}
		}
	case device.Ne:
		kernel = func(d []bool, x, y []T) {
			for i := range d {
				d[i] = x[i] != y[i]
			}
		}
	case device.Lt:
		kernel = func(d []bool, x, y []T) {
			for i := range d {
				d[i] = x[i] < y[i]
			}
		}
	case device.Le:
		kernel = func(d []bool, x, y []T) {
			for i := range d {
				d[i] = x[i] <= y[i]
			}
		}
	case device.Gt:
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

func logical(op device.BinaryOp) func(d, x, y []bool) {
	return func(d, x, y []bool) {
		for i := range d {
			switch op {
			case device.And:
				d[i] = x[i] && y[i]
			case device.Or:
				d[i] = x[i] || y[i]
			default:
				d[i] = x[i] != y[i]
			}
		}
	}
}

func (c *host) Where(dst, cond, a, b device.View) error {
	switch dst.Buf.DType() {
	case device.Float32:
		return runWhere[float32](dst, cond, a, b)
	case device.Float64:
		return runWhere[float64](dst, cond, a, b)
	case device.Int64:
		return runWhere[int64](dst, cond, a, b)
	case device.Bool:
		return runWhere[bool](dst, cond, a, b)
	case device.Uint8:
		return runWhere[uint8](dst, cond, a, b)
	}
	return unsupported("where", dst.Buf.DType())
}

func runWhere[T any](dst, cond, a, b device.View) error {
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
