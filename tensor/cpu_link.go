package tensor

// Every program that uses package tensor links the CPU backend, which
// registers itself with package device as device.CPU(), the device tensors
// are made on by default. Package device holds only the contract and knows
// no backend of its own.
import _ "github.com/nabla-go/nabla/device/cpu"
