package cpu

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// physicalMemory returns the memory this process can have: the machine's
// RAM, or its control group's limit when lower (a container's memory
// limit is what ends the process, not the host's RAM).
func physicalMemory() (int64, string) {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return 0, ""
	}
	ram := int64(si.Totalram) * int64(si.Unit)
	if cg := cgroupMemoryLimit(); cg > 0 && cg < ram {
		return cg, "the memory limit of the process's control group"
	}
	return ram, "the machine's physical memory"
}

// cgroupMemoryLimit reads the memory limit of the process's control group
// (v2 memory.max, or v1 memory.limit_in_bytes); 0 when there is none.
func cgroupMemoryLimit() int64 {
	var paths []string
	if f, err := os.Open("/proc/self/cgroup"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "0::"); ok {
				paths = append(paths, "/sys/fs/cgroup"+rest+"/memory.max")
			}
		}
		f.Close()
	}
	paths = append(paths, "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// "max" (v2) or a huge number (v1) mean no limit.
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && n < 1<<62 {
			return n
		}
		return 0
	}
	return 0
}
