package device

import (
	"fmt"
	"strings"
)

// Info describes a device for people: what `nabla devices` prints.
type Info struct {
	Device Device
	Name   string
	// MemoryBytes is the device's total memory (0 when unknown).
	MemoryBytes uint64
	// ComputeCapability is "major.minor" for CUDA devices, "" for the CPU.
	ComputeCapability string
	// Cores is the number of CPU threads Go schedules onto, or the number
	// of streaming multiprocessors of a GPU.
	Cores int
	// Features lists CPU SIMD extensions the kernels can use.
	Features []string
	// Emulated is set for a CUDA device that is the PTX virtual machine
	// (NABLA_CUDA=emulate): the CUDA code path, run on the CPU.
	Emulated bool
	// Kernels says which code a CUDA device loads for its kernels: machine
	// code for its architecture ("sm_90 machine code"), or PTX that the
	// driver JIT-compiles on first use.
	Kernels string
}

// Describer is implemented by backends that can describe their device.
type Describer interface {
	Describe() (Info, error)
}

// Describe returns the Info of d.
func Describe(d Device) (Info, error) {
	be, err := Get(d)
	if err != nil {
		return Info{}, err
	}
	desc, ok := be.(Describer)
	if !ok {
		return Info{Device: d, Name: d.String()}, nil
	}
	return desc.Describe()
}

// String formats the Info on one line.
func (i Info) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%-8s %s", i.Device, i.Name)
	if i.ComputeCapability != "" {
		fmt.Fprintf(&sb, ", compute capability %s", i.ComputeCapability)
	}
	if i.MemoryBytes > 0 {
		fmt.Fprintf(&sb, ", %.1f GiB", float64(i.MemoryBytes)/(1<<30))
	}
	if i.Cores > 0 {
		unit := "cores"
		if i.Device.Kind == KindCUDA {
			unit = "SMs"
		}
		fmt.Fprintf(&sb, ", %d %s", i.Cores, unit)
	}
	if len(i.Features) > 0 {
		fmt.Fprintf(&sb, ", SIMD: %s", strings.Join(i.Features, " "))
	}
	if i.Kernels != "" {
		fmt.Fprintf(&sb, ", kernels: %s", i.Kernels)
	}
	if i.Emulated {
		sb.WriteString(" [EMULATED: no GPU; the CUDA kernels run in the PTX virtual machine on the CPU, far slower than a GPU]")
	}
	return sb.String()
}
