package tensor

import (
	"reflect"
	"unsafe"

	"github.com/nabla-go/nabla/device"
)

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

// dtypeOf returns the DType that holds Go values of type T (named types
// such as `type celsius float64` included).
func dtypeOf[T Elem]() DType {
	var z T
	switch reflect.TypeOf(z).Kind() {
	case reflect.Float32:
		return Float32
	case reflect.Float64:
		return Float64
	case reflect.Int64:
		return Int64
	case reflect.Bool:
		return Bool
	default:
		return Uint8
	}
}

// copyToHost copies src into dst, a host slice of dtypeOf[T]()'s element
// type. src's element type may be a named type with that underlying type.
func copyToHost[T Elem](dst any, src []T) {
	if len(src) == 0 {
		return
	}
	if d, ok := dst.([]T); ok {
		copy(d, src)
		return
	}
	// T is a named type whose underlying type is dst's element type, so
	// the memory layouts are identical.
	p, n := unsafe.Pointer(unsafe.SliceData(src)), len(src)
	switch d := dst.(type) {
	case []float32:
		copy(d, unsafe.Slice((*float32)(p), n))
	case []float64:
		copy(d, unsafe.Slice((*float64)(p), n))
	case []int64:
		copy(d, unsafe.Slice((*int64)(p), n))
	case []bool:
		copy(d, unsafe.Slice((*bool)(p), n))
	case []uint8:
		copy(d, unsafe.Slice((*uint8)(p), n))
	}
}
