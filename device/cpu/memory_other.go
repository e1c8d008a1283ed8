//go:build !linux && !darwin

package cpu

// physicalMemory is unknown outside Linux: the CPU memory limit is then
// NABLA_CPU_MEMORY's, or none.
func physicalMemory() (int64, string) { return 0, "" }
