package cpu

import "syscall"

// osYield offers the thread's processor to other runnable threads
// (sched_yield); it returns at once when there are none.
func osYield() { syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0) }
