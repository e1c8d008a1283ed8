package device

import "fmt"

// DType is the element type of a buffer or tensor.
type DType uint8

// The element types nabla supports. Float32 is the default.
const (
	Float32 DType = iota
	Float64
	Int64
	Bool
	Uint8
)

var dtypeNames = [...]string{"float32", "float64", "int64", "bool", "uint8"}
var dtypeSizes = [...]int{4, 8, 8, 1, 1}

// String returns the PyTorch-style name, for example "float32".
func (d DType) String() string {
	if int(d) < len(dtypeNames) {
		return dtypeNames[d]
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// Size is the number of bytes one element occupies.
func (d DType) Size() int {
	if int(d) < len(dtypeSizes) {
		return dtypeSizes[d]
	}
	return 0
}

// IsFloat reports whether d is a floating-point type.
func (d DType) IsFloat() bool { return d == Float32 || d == Float64 }

// Valid reports whether d is one of the defined dtypes.
func (d DType) Valid() bool { return int(d) < len(dtypeNames) }

// ParseDType converts a name such as "float32" back to its DType.
func ParseDType(name string) (DType, error) {
	for i, n := range dtypeNames {
		if n == name {
			return DType(i), nil
		}
	}
	return 0, fmt.Errorf("device: unknown dtype %q (want one of float32, float64, int64, bool, uint8)", name)
}
