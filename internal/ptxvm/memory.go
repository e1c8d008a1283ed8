package ptxvm

// Device memory. Allocations get addresses in a 64-bit space that is
// never reused, 256-byte aligned and separated by unmapped guard gaps, so
// an access past the end of one allocation never lands in another and an
// access to freed memory is recognised as such. The backing bytes are Go
// slices.

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
)

// Address windows of the generic address space.
const (
	globalBase   = 0x7f00_0000_0000
	sharedWindow = 0x0100_0000_0000 // generic = window + shared offset
	localWindow  = 0x0200_0000_0000 // generic = window + local offset
	windowSize   = 0x0100_0000_0000
	guardGap     = 4096
)

// allocation is a range of device memory.
type allocation struct {
	addr  uint64
	size  uint64
	data  []byte
	kind  string // "device", "module global"
	freed atomic.Bool
}

// maxFreedRecords bounds the freed ranges remembered for messages.
const maxFreedRecords = 1 << 16

// memory is a device's address space.
type memory struct {
	mu    sync.Mutex
	next  uint64
	live  atomic.Pointer[[]*allocation] // sorted by address, immutable
	freed []*allocation                 // sorted by address
	used  int64
	limit int64
}

func newMemory(limit int64) *memory {
	m := &memory{next: globalBase, limit: limit}
	m.live.Store(&[]*allocation{})
	return m
}

// alloc maps size bytes, zeroed.
func (m *memory) alloc(size int64, kind string, countsToLimit bool) (*allocation, error) {
	if size < 0 {
		return nil, fmt.Errorf("negative allocation size %d", size)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if countsToLimit && m.used+size > m.limit {
		return nil, errOutOfMemory
	}
	a := &allocation{addr: m.next, size: uint64(size), data: make([]byte, size), kind: kind}
	m.next += (uint64(size)+255)&^255 + guardGap
	if countsToLimit {
		m.used += size
	}
	old := *m.live.Load()
	nl := make([]*allocation, len(old), len(old)+1)
	copy(nl, old)
	nl = append(nl, a) // addresses increase, so the list stays sorted
	m.live.Store(&nl)
	return a, nil
}

// free unmaps the allocation starting at addr.
func (m *memory) free(addr uint64, countsToLimit bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.live.Load()
	i := sort.Search(len(old), func(i int) bool { return old[i].addr >= addr })
	if i == len(old) || old[i].addr != addr {
		return fmt.Errorf("address %#x is not the start of a live allocation", addr)
	}
	a := old[i]
	a.freed.Store(true)
	nl := make([]*allocation, 0, len(old)-1)
	nl = append(nl, old[:i]...)
	nl = append(nl, old[i+1:]...)
	m.live.Store(&nl)
	if countsToLimit {
		m.used -= int64(a.size)
	}
	// The bytes stay with the allocation object (a warp may still hold
	// it); the record below only names the range for messages.
	m.freed = append(m.freed, &allocation{addr: a.addr, size: a.size, kind: a.kind})
	if len(m.freed) > maxFreedRecords {
		m.freed = m.freed[len(m.freed)-maxFreedRecords:]
	}
	return nil
}

// find returns the live allocation holding [addr, addr+n).
func (m *memory) find(addr, n uint64) *allocation {
	l := *m.live.Load()
	i := sort.Search(len(l), func(i int) bool { return l[i].addr+l[i].size > addr })
	if i < len(l) {
		a := l[i]
		if addr >= a.addr && addr+n <= a.addr+a.size {
			return a
		}
	}
	return nil
}

// describe explains why [addr, addr+n) is not accessible.
func (m *memory) describe(addr, n uint64) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range m.freed {
		if addr < a.addr+a.size && addr+n > a.addr {
			return fmt.Sprintf("use of freed memory: %d bytes at %#x lie in a freed %s allocation [%#x, %#x)", n, addr, a.kind, a.addr, a.addr+a.size)
		}
	}
	l := *m.live.Load()
	i := sort.Search(len(l), func(i int) bool { return l[i].addr+l[i].size > addr })
	if i < len(l) && addr+n > l[i].addr && addr < l[i].addr+l[i].size {
		a := l[i]
		return fmt.Sprintf("out of bounds: %d bytes at %#x run past the end of the %d-byte %s allocation [%#x, %#x) by %d bytes",
			n, addr, a.size, a.kind, a.addr, a.addr+a.size, addr+n-(a.addr+a.size))
	}
	var near string
	if i > 0 {
		a := l[i-1]
		near = fmt.Sprintf("; %d bytes after the end of the %d-byte %s allocation [%#x, %#x)", addr-(a.addr+a.size), a.size, a.kind, a.addr, a.addr+a.size)
	} else if i < len(l) {
		a := l[i]
		near = fmt.Sprintf("; %d bytes before the %s allocation at %#x", a.addr-addr, a.kind, a.addr)
	}
	return fmt.Sprintf("out of bounds: %d bytes at %#x are not in any allocation%s", n, addr, near)
}

// bytes returns the backing bytes of [addr, addr+n), or an error saying
// why they are not mapped.
func (m *memory) bytes(addr, n uint64) ([]byte, error) {
	a := m.find(addr, n)
	if a == nil || a.freed.Load() {
		return nil, fmt.Errorf("%s", m.describe(addr, n))
	}
	off := addr - a.addr
	return a.data[off : off+n], nil
}
