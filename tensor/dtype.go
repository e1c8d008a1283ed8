package tensor

import "github.com/nabla-go/nabla/device"

// DType is the element type of a tensor; see device.DType.
type DType = device.DType

// The element types. Float32 is the default of every constructor.
const (
	Float32 = device.Float32
	Float64 = device.Float64
	Int64   = device.Int64
	Bool    = device.Bool
	Uint8   = device.Uint8
)

// Elem is the set of Go element types a tensor can be built from.
type Elem interface {
	~float32 | ~float64 | ~int64 | ~bool | ~uint8
}

// dtypeOf returns the DType that holds Go values of type T.
func dtypeOf[T Elem]() DType {
	var z T
	switch any(z).(type) {
	case float32:
		return Float32
	case float64:
		return Float64
	case int64:
		return Int64
	case bool:
		return Bool
	default:
		return Uint8
	}
}
