package ptxvm

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"math"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

//go:embed testdata/broken.ptx
var handPTX string

// params packs kernel arguments at their natural alignment, as the
// backend's argBuf does.
func params(args ...any) ([]byte, []uint32) {
	var buf []byte
	var offs []uint32
	put := func(b []byte) {
		for len(buf)%len(b) != 0 {
			buf = append(buf, 0)
		}
		offs = append(offs, uint32(len(buf)))
		buf = append(buf, b...)
	}
	for _, a := range args {
		switch v := a.(type) {
		case uint64:
			put(binary.LittleEndian.AppendUint64(nil, v))
		case uint32:
			put(binary.LittleEndian.AppendUint32(nil, v))
		default:
			panic("params: unsupported type")
		}
	}
	return buf, offs
}

type vmFixture struct {
	t *testing.T
	d *Device
	m *Module
	s *Stream
}

func newFixture(t *testing.T) *vmFixture {
	d := New(Config{})
	m, err := d.LoadModule(handPTX)
	require.NoError(t, err)
	return &vmFixture{t: t, d: d, m: m, s: d.NewStream()}
}

// run launches kernel on one block of threads and synchronises.
func (f *vmFixture) run(kernel string, grid, threads uint32, args ...any) error {
	fn, err := f.m.Function(kernel)
	require.NoError(f.t, err)
	p, offs := params(args...)
	require.NoError(f.t, f.d.Launch(fn, [3]uint32{grid, 1, 1}, [3]uint32{threads, 1, 1}, 0, f.s, p, offs))
	return f.s.Synchronize()
}

func (f *vmFixture) alloc(n int64) uint64 {
	a, err := f.d.Alloc(n)
	require.NoError(f.t, err)
	return a
}

func (f *vmFixture) download32(addr uint64, n int) []uint32 {
	out := make([]uint32, n)
	require.NoError(f.t, f.d.CopyDtoH(unsafe.Pointer(&out[0]), addr, int64(4*n), f.s))
	require.NoError(f.t, f.s.Synchronize())
	return out
}

func faultOf(t *testing.T, err error) *Fault {
	t.Helper()
	require.Error(t, err)
	var f *Fault
	require.True(t, errors.As(err, &f), "not a launch fault: %v", err)
	return f
}

// TestMemcheckOffByOne: a store one element past the end of a buffer
// fails the launch with the kernel, block, thread, PTX line and address.
func TestMemcheckOffByOne(t *testing.T) {
	f := newFixture(t)
	const n = 100
	out := f.alloc(4 * n)
	err := f.run("fill_off_by_one", 1, 128, out, uint32(n))
	fl := faultOf(t, err)
	require.Equal(t, FaultOutOfBounds, fl.Kind)
	require.Equal(t, "fill_off_by_one", fl.Kernel)
	require.Equal(t, [3]uint32{n, 0, 0}, fl.Thread)
	require.Equal(t, out+4*n, fl.Addr)
	require.Equal(t, 29, fl.Line)
	require.Contains(t, fl.Instr, "st.global.u32")
	require.Contains(t, err.Error(), "0 bytes after the end of the 400-byte device allocation")
	var e *Error
	require.True(t, errors.As(err, &e))
	require.Equal(t, CodeIllegalAddress, e.Code)

	// The same launch within bounds runs, and the stream works again.
	require.NoError(t, f.run("fill_off_by_one", 1, n, out, uint32(n)))
	got := f.download32(out, n)
	for i, v := range got {
		require.Equal(t, uint32(i), v)
	}
}

func TestMemcheckUseAfterFree(t *testing.T) {
	f := newFixture(t)
	out := f.alloc(4 * 64)
	require.NoError(t, f.d.Free(out))
	err := f.run("fill_off_by_one", 1, 32, out, uint32(64))
	require.Equal(t, FaultOutOfBounds, faultOf(t, err).Kind)
	require.Contains(t, err.Error(), "use of freed memory")
}

func TestMemcheckMisaligned(t *testing.T) {
	f := newFixture(t)
	out := f.alloc(64)
	require.NoError(t, f.run("load_at", 1, 1, out, uint64(8)))
	err := f.run("load_at", 1, 1, out, uint64(2))
	fl := faultOf(t, err)
	require.Equal(t, FaultMisaligned, fl.Kind)
	require.Equal(t, out+2, fl.Addr)
	require.Contains(t, err.Error(), "must be 4-byte aligned")
}

// TestRacecheckMissingBarrier: reading another thread's shared-memory
// word without a bar.sync after its write is a hazard; with the barrier
// the kernel runs and reads the right values.
func TestRacecheckMissingBarrier(t *testing.T) {
	f := newFixture(t)
	out := f.alloc(4 * 256)
	err := f.run("neighbour", 2, 256, out, uint32(0))
	fl := faultOf(t, err)
	require.Equal(t, FaultRace, fl.Kind)
	require.True(t, fl.OtherKnown)
	t.Log(err)
	require.Contains(t, err.Error(), "shared memory race")
	require.Contains(t, err.Error(), "since the last barrier")

	require.NoError(t, f.run("neighbour", 2, 256, out, uint32(1)))
	for i, v := range f.download32(out, 256) {
		require.Equal(t, uint32((i+1)%256), v)
	}
}

func TestShuffleModes(t *testing.T) {
	f := newFixture(t)
	out := f.alloc(4 * 4 * 32)
	require.NoError(t, f.run("shuffles", 1, 32, out))
	got := f.download32(out, 4*32)
	for l := uint32(0); l < 32; l++ {
		down, up := l+1, l-1
		if l == 31 {
			down = l
		}
		if l == 0 {
			up = 0
		}
		require.Equal(t, []uint32{down * 10, up * 10, (l ^ 1) * 10, 30}, got[4*l:4*l+4], "lane %d", l)
	}
}

func TestShuffleNeedsConvergedMembers(t *testing.T) {
	f := newFixture(t)
	out := f.alloc(4 * 32)
	err := f.run("shuffle_diverged", 1, 32, out)
	fl := faultOf(t, err)
	require.Equal(t, FaultDivergence, fl.Kind)
	require.Contains(t, err.Error(), "shfl.sync")
}

// TestDivergenceAndCalls: a loop of a different length per lane and a
// .func call taken by half the warp reconverge before a shuffle.
func TestDivergenceAndCalls(t *testing.T) {
	f := newFixture(t)
	const n = 96
	out := f.alloc(4 * n)
	require.NoError(t, f.run("diverge", 1, n, out))
	v := func(t uint32) uint32 {
		if t%2 == 1 {
			return t * (t + 1) // twice(0+1+...+t)
		}
		return 2 * t
	}
	for i, g := range f.download32(out, n) {
		require.Equal(t, v(uint32(i))+v(uint32(i)^1), g, "thread %d", i)
	}
}

func TestLaunchValidation(t *testing.T) {
	f := newFixture(t)
	fn, err := f.m.Function("fill_off_by_one")
	require.NoError(t, err)
	out := f.alloc(1024)
	p, offs := params(out, uint32(4))
	cases := []struct {
		name        string
		grid, block [3]uint32
		smem        uint32
		p           []byte
		offs        []uint32
		want        string
	}{
		{"too many threads", [3]uint32{1, 1, 1}, [3]uint32{1025, 1, 1}, 0, p, offs, "at most 1024 threads"},
		{"more than .maxntid", [3]uint32{1, 1, 1}, [3]uint32{32, 32, 2}, 0, p, offs, "block"},
		{"grid y", [3]uint32{1, 65536, 1}, [3]uint32{32, 1, 1}, 0, p, offs, "grid dimension 1"},
		{"empty grid", [3]uint32{0, 1, 1}, [3]uint32{32, 1, 1}, 0, p, offs, "grid dimension 0"},
		{"shared memory", [3]uint32{1, 1, 1}, [3]uint32{32, 1, 1}, 49 << 10, p, offs, "exceed the limit"},
		{"argument count", [3]uint32{1, 1, 1}, [3]uint32{32, 1, 1}, 0, p, offs[:1], "1 arguments for 2 parameters"},
		{"argument offset", [3]uint32{1, 1, 1}, [3]uint32{32, 1, 1}, 0, p, []uint32{0, 12}, "packed at offset 12"},
		{"argument bytes", [3]uint32{1, 1, 1}, [3]uint32{32, 1, 1}, 0, p[:10], offs, "has 2 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := f.d.Launch(fn, tc.grid, tc.block, tc.smem, f.s, tc.p, tc.offs)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestStreamsRunLater: queued work runs when the host waits, so a pinned
// source rewritten before then is what the device copies; pageable
// sources are read when queued; an event orders one stream after another.
func TestStreamsRunLater(t *testing.T) {
	f := newFixture(t)
	dst := f.alloc(16)
	pinned, err := f.d.HostAlloc(16)
	require.NoError(t, err)
	host := unsafe.Slice((*uint32)(pinned), 4)
	host[0] = 1
	require.NoError(t, f.d.CopyHtoD(dst, pinned, 16, f.s))
	host[0] = 2 // too early: the copy has not run
	require.Equal(t, uint32(2), f.download32(dst, 4)[0])

	pageable := []uint32{5, 6, 7, 8}
	require.NoError(t, f.d.CopyHtoD(dst, unsafe.Pointer(&pageable[0]), 16, f.s))
	pageable[0] = 9
	require.Equal(t, uint32(5), f.download32(dst, 4)[0])

	// Stream 2 waits for a kernel queued on stream 1.
	s2 := f.d.NewStream()
	out := f.alloc(4 * 32)
	fn, err := f.m.Function("fill_off_by_one")
	require.NoError(t, err)
	p, offs := params(out, uint32(32))
	require.NoError(t, f.d.Launch(fn, [3]uint32{1, 1, 1}, [3]uint32{32, 1, 1}, 0, f.s, p, offs))
	ev := f.d.NewEvent()
	require.NoError(t, ev.Record(f.s))
	require.False(t, ev.Query())
	require.NoError(t, s2.WaitEvent(ev))
	got := make([]uint32, 32)
	require.NoError(t, f.d.CopyDtoH(unsafe.Pointer(&got[0]), out, 128, s2))
	require.NoError(t, s2.Synchronize())
	require.True(t, ev.Query())
	require.Equal(t, uint32(31), got[31])
	require.NoError(t, f.d.HostFree(pinned))
}

// TestDestroyedHandles: the driver refuses work on a destroyed stream or
// event and launches of an unloaded module's kernels
// (CUDA_ERROR_INVALID_HANDLE); nothing is queued silently.
func TestDestroyedHandles(t *testing.T) {
	dst := func(f *vmFixture) uint64 { return f.alloc(128) }
	cases := []struct {
		name string
		call func(f *vmFixture) error
	}{
		{"launch on a destroyed stream", func(f *vmFixture) error {
			fn, err := f.m.Function("fill_off_by_one")
			require.NoError(t, err)
			p, offs := params(dst(f), uint32(32))
			require.NoError(t, f.s.Destroy())
			return f.d.Launch(fn, [3]uint32{1, 1, 1}, [3]uint32{32, 1, 1}, 0, f.s, p, offs)
		}},
		{"copy on a destroyed stream", func(f *vmFixture) error {
			var host [128]byte
			d := dst(f)
			require.NoError(t, f.s.Destroy())
			return f.d.CopyDtoH(unsafe.Pointer(&host[0]), d, 128, f.s)
		}},
		{"synchronize a destroyed stream", func(f *vmFixture) error {
			require.NoError(t, f.s.Destroy())
			return f.s.Synchronize()
		}},
		{"launch of an unloaded module", func(f *vmFixture) error {
			fn, err := f.m.Function("fill_off_by_one")
			require.NoError(t, err)
			p, offs := params(dst(f), uint32(32))
			require.NoError(t, f.m.Unload())
			return f.d.Launch(fn, [3]uint32{1, 1, 1}, [3]uint32{32, 1, 1}, 0, f.s, p, offs)
		}},
		{"lookup in an unloaded module", func(f *vmFixture) error {
			require.NoError(t, f.m.Unload())
			_, err := f.m.Function("fill_off_by_one")
			return err
		}},
		{"record a destroyed event", func(f *vmFixture) error {
			ev := f.d.NewEvent()
			require.NoError(t, ev.Destroy())
			return ev.Record(f.s)
		}},
		{"wait for a destroyed event", func(f *vmFixture) error {
			ev := f.d.NewEvent()
			require.NoError(t, ev.Record(f.s))
			require.NoError(t, ev.Destroy())
			return f.s.WaitEvent(ev)
		}},
		{"synchronize a destroyed event", func(f *vmFixture) error {
			ev := f.d.NewEvent()
			require.NoError(t, ev.Destroy())
			return ev.Synchronize()
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call(newFixture(t))
			var e *Error
			require.True(t, errors.As(err, &e), "%v", err)
			require.Equal(t, CodeInvalidHandle, e.Code, "%v", err)
		})
	}
}

func TestOutOfMemory(t *testing.T) {
	d := New(Config{TotalMem: 1 << 20})
	a, err := d.Alloc(1 << 19)
	require.NoError(t, err)
	_, err = d.Alloc(1 << 20)
	var e *Error
	require.True(t, errors.As(err, &e))
	require.Equal(t, CodeOutOfMemory, e.Code)
	require.NoError(t, d.Free(a))
	_, err = d.Alloc(1 << 20)
	require.NoError(t, err)
}

func TestRoundingModes(t *testing.T) {
	third := float64(1) / 3
	require.Equal(t, float32(third), round32(third, 0, rnd))
	down := round32(third, 0, rmi)
	up := round32(third, 0, rpi)
	require.Less(t, float64(down), third)
	require.Greater(t, float64(up), third)
	require.Equal(t, math.Nextafter32(down, 1), up)
	require.Equal(t, down, round32(third, 0, rzr))
	require.Equal(t, -down, round32(-third, 0, rzr))
	// fma rounds once: (1+2^-12)² - (1+2^-11) is 2^-24, where a
	// rounded product (a tie, to even) would give 0.
	a := float32(1 + math.Ldexp(1, -12))
	require.Equal(t, float32(math.Ldexp(1, -24)), fma32(a, a, -float32(1+math.Ldexp(1, -11)), rnd))
	// tf32 rounds to nearest, ties away from zero.
	require.Equal(t, uint32(0x3f802000), tf32(0x3f801000))
	require.Equal(t, uint32(0x3f800000), tf32(0x3f800fff))
}

// BenchmarkVM runs 256 blocks of 256 threads, each thread 1000 fused
// multiply-adds in a loop (4 instructions per iteration), and reports the
// machine's speed in thread instructions per second.
func BenchmarkVM(b *testing.B) {
	d := New(Config{})
	m, err := d.LoadModule(handPTX)
	require.NoError(b, err)
	fn, err := m.Function("spin")
	require.NoError(b, err)
	s := d.NewStream()
	out, err := d.Alloc(4 * 256 * 256)
	require.NoError(b, err)
	p, offs := params(out, uint32(1000))
	b.ResetTimer()
	for range b.N {
		require.NoError(b, d.Launch(fn, [3]uint32{256, 1, 1}, [3]uint32{256, 1, 1}, 0, s, p, offs))
		require.NoError(b, s.Synchronize())
	}
	st := d.Stats()
	b.ReportMetric(float64(st.ThreadInstrs)/b.Elapsed().Seconds(), "thread-instr/s")
	b.ReportMetric(float64(st.WarpInstructions)/b.Elapsed().Seconds(), "warp-instr/s")
}
