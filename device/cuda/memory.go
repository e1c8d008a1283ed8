package cuda

import "github.com/nabla-go/nabla/device"

// MemoryStatistics returns the allocator's counters as device.MemoryStats,
// so that device-independent code (device.Memory) can read them.
func (b *Backend) MemoryStatistics() device.MemoryStats {
	return device.MemoryStats(b.MemoryStats())
}

// ResetPeakMemory is ResetPeakStats, for device.ResetPeakMemory.
func (b *Backend) ResetPeakMemory() { b.ResetPeakStats() }

var _ device.MemoryReporter = (*Backend)(nil)
