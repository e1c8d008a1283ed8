//go:build unix

package testfile

import (
	"os"
	"syscall"
)

// diskUsage returns the bytes of disk f occupies.
func diskUsage(f *os.File) (int64, bool) {
	st, err := f.Stat()
	if err != nil {
		return 0, false
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int64(sys.Blocks) * 512, true
}
