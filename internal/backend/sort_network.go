package backend

import (
	"fmt"
	"math"

	"github.com/nabla-go/nabla/device"
)

// SortNetwork implements device.Backend.Sort on any backend from its other
// primitives (Alloc, Upload, Fill, Copy, Unary, Binary, Where, Reduce and
// Gather), for a backend that has no sort kernel: it runs a bitonic
// sorting network, whose every stage is a handful of elementwise passes
// over strided views, so it needs no kernel of its own.
//
// Each row is padded to a power of two N and sorted as (key, position)
// pairs, which are all distinct, so the network's result is the unique
// order in which equal keys keep their positions: a stable sort. NaN
// keys become +∞ with their position moved past every real one
// (ascending) or before every real one (descending); padding repeats the
// row's largest key (smallest, descending) with positions beyond them
// all. values comes from src by Gather at the sorted positions, so it
// holds src's elements bit for bit (NaNs and -0 included). The network takes
// log2(N)·(log2(N)+1)/2 stages of about ten passes each.
func SortNetwork(b device.Backend, values, indices, src device.View, descending bool) error {
	s, err := newSortNet(b, src, descending)
	if err != nil || s == nil {
		return err
	}
	if err := s.load(src); err != nil {
		return fmt.Errorf("device: sort: %w", err)
	}
	if err := s.run(); err != nil {
		return fmt.Errorf("device: sort: %w", err)
	}
	if err := s.store(indices); err != nil {
		return fmt.Errorf("device: sort: %w", err)
	}
	if values.Buf != nil {
		if err := b.Gather(values, src, indices, len(src.Shape)-1); err != nil {
			return fmt.Errorf("device: sort: %w", err)
		}
	}
	return nil
}

// sortNet is the state of one SortNetwork call: ping-pong buffers of keys
// (src's dtype) and positions (Int64), rows × N each, contiguous.
type sortNet struct {
	b          device.Backend
	dt         device.DType
	descending bool
	lead       []int // src's shape without the last dimension
	rows, n, N int
	keys, pos  [2]device.Buffer
	cur        int           // which of the pairs holds the current state
	nan        device.Buffer // Bool, rows × N: the NaN keys (float dtypes)
}

// newSortNet checks src and allocates the work buffers; it returns nil
// when src has no elements.
func newSortNet(b device.Backend, src device.View, descending bool) (*sortNet, error) {
	dt := src.Buf.DType()
	switch dt {
	case device.Float32, device.Float64, device.Int64, device.Uint8:
	default:
		return nil, fmt.Errorf("device: sort: %v is not supported (float, int64 and uint8 are)", dt)
	}
	rank := len(src.Shape)
	if rank == 0 {
		return nil, fmt.Errorf("device: sort needs a view with at least one dimension")
	}
	if src.Numel() == 0 {
		return nil, nil
	}
	s := &sortNet{b: b, dt: dt, descending: descending, lead: src.Shape[:rank-1], n: src.Shape[rank-1]}
	s.rows = device.Numel(s.lead)
	s.N = 1
	for s.N < s.n {
		s.N *= 2
	}
	for i := range s.keys {
		var err error
		if s.keys[i], err = b.Alloc(dt, s.rows*s.N); err != nil {
			return nil, err
		}
		if s.pos[i], err = b.Alloc(device.Int64, s.rows*s.N); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// rowView presents columns [from, from+cols) of every row of buf (rows ×
// N, contiguous) with src's leading shape.
func (s *sortNet) rowView(buf device.Buffer, from, cols int) device.View {
	shape := append(append([]int{}, s.lead...), cols)
	strides := make([]int, len(shape))
	strides[len(shape)-1] = 1
	stride := s.N
	for d := len(shape) - 2; d >= 0; d-- {
		strides[d] = stride
		stride *= shape[d]
	}
	return device.View{Buf: buf, Layout: device.Layout{Shape: shape, Strides: strides, Offset: from}}
}

// scalar returns a one-element buffer holding v, presented with shape
// (all strides 0).
func (s *sortNet) scalar(dt device.DType, v float64, shape []int) (device.View, error) {
	buf, err := s.b.Alloc(dt, 1)
	if err != nil {
		return device.View{}, err
	}
	l := device.Layout{Shape: shape, Strides: make([]int, len(shape))}
	v1 := device.View{Buf: buf, Layout: device.Layout{Shape: []int{1}, Strides: []int{1}}}
	return device.View{Buf: buf, Layout: l}, s.b.Fill(v1, v)
}

// load fills the first key and position buffers from src: keys with NaN
// replaced by +∞ and padding, positions 0..n-1 (NaNs moved by ±N) and
// 2N+j for padding column j.
func (s *sortNet) load(src device.View) error {
	b := s.b
	keys := s.rowView(s.keys[0], 0, s.n)
	if err := b.Copy(keys, src); err != nil {
		return err
	}
	var nanMask device.View
	if s.dt.IsFloat() {
		var err error
		if s.nan, err = b.Alloc(device.Bool, s.rows*s.N); err != nil {
			return err
		}
		nanMask = s.rowView(s.nan, 0, s.n)
		if err := b.Binary(device.Ne, nanMask, keys, keys); err != nil {
			return err
		}
		inf, err := s.scalar(s.dt, math.Inf(1), keys.Shape)
		if err != nil {
			return err
		}
		if err := b.Where(keys, nanMask, inf, keys); err != nil {
			return err
		}
	}
	if s.N > s.n {
		// Padding repeats the row's largest key (smallest, descending):
		// with the positions beyond every real one it sorts last.
		ext, err := b.Alloc(s.dt, s.rows)
		if err != nil {
			return err
		}
		extView := device.View{Buf: ext, Layout: device.Contiguous(s.lead...)}
		op := device.Max
		if s.descending {
			op = device.Min
		}
		if err := b.Reduce(op, extView, keys, 1); err != nil {
			return err
		}
		pad := s.rowView(s.keys[0], s.n, s.N-s.n)
		spread := device.View{Buf: ext, Layout: device.Layout{Shape: pad.Shape, Strides: append(device.ContiguousStrides(s.lead), 0)}}
		if err := b.Copy(pad, spread); err != nil {
			return err
		}
	}
	tmpl := make([]int64, s.N)
	for i := range tmpl {
		tmpl[i] = int64(i)
		if i >= s.n {
			tmpl[i] += 2 * int64(s.N)
		}
	}
	row, err := b.Alloc(device.Int64, s.N)
	if err != nil {
		return err
	}
	if err := b.Upload(row, tmpl); err != nil {
		return err
	}
	all := s.rowView(s.pos[0], 0, s.N)
	rowsOf := device.View{Buf: row, Layout: device.Layout{Shape: all.Shape, Strides: make([]int, len(all.Shape))}}
	rowsOf.Strides[len(all.Shape)-1] = 1
	if err := b.Copy(all, rowsOf); err != nil {
		return err
	}
	if !s.dt.IsFloat() {
		return nil
	}
	shift := float64(s.N)
	if s.descending {
		shift = -shift
	}
	pos, moved := s.rowView(s.pos[0], 0, s.n), s.rowView(s.pos[1], 0, s.n)
	if err := b.Unary(device.AddScalar, moved, pos, shift, 0); err != nil {
		return err
	}
	return b.Where(pos, nanMask, moved, pos)
}

// run applies the network's stages to the key and position buffers.
func (s *sortNet) run() error {
	if s.N < 2 {
		return nil
	}
	b := s.b
	var masks [3]device.Buffer
	for i := range masks {
		var err error
		if masks[i], err = b.Alloc(device.Bool, s.rows*s.N/2); err != nil {
			return err
		}
	}
	dir, err := b.Alloc(device.Bool, 2)
	if err != nil {
		return err
	}
	if err := b.Upload(dir, []bool{false, true}); err != nil {
		return err
	}
	first := device.Gt
	if s.descending {
		first = device.Lt
	}
	N := s.N
	for k := 2; k <= N; k *= 2 {
		for j := k / 2; j >= 1; j /= 2 {
			// Element i = a·2k + d·k + m·2j + p·j + r compares with its
			// partner i+j when p = 0; blocks with d = 1 sort in reverse,
			// forming the bitonic sequences of the next round. In the
			// last round (k = N) every block sorts forward.
			shape, strides := []int{s.rows, N / (2 * j), j}, []int{N, 2 * j, 1}
			dirStrides := []int{0, 0, 0}
			if k < N {
				shape = []int{s.rows, N / (2 * k), 2, k / (2 * j), j}
				strides = []int{N, 2 * k, k, 2 * j, 1}
				dirStrides = []int{0, 0, 1, 0, 0}
			}
			lo := func(buf device.Buffer) device.View {
				return device.View{Buf: buf, Layout: device.Layout{Shape: shape, Strides: strides}}
			}
			hi := func(buf device.Buffer) device.View {
				return device.View{Buf: buf, Layout: device.Layout{Shape: shape, Strides: strides, Offset: j}}
			}
			mask := func(i int) device.View { return device.View{Buf: masks[i], Layout: device.Contiguous(shape...)} }
			swap, tie, later := mask(0), mask(1), mask(2)
			kl, kh := lo(s.keys[s.cur]), hi(s.keys[s.cur])
			pl, ph := lo(s.pos[s.cur]), hi(s.pos[s.cur])
			// swap = (kl after kh) || (kl == kh && pl > ph), flipped in
			// reversed blocks.
			steps := []func() error{
				func() error { return b.Binary(first, swap, kl, kh) },
				func() error { return b.Binary(device.Eq, tie, kl, kh) },
				func() error { return b.Binary(device.Gt, later, pl, ph) },
				func() error { return b.Binary(device.And, tie, tie, later) },
				func() error { return b.Binary(device.Or, swap, swap, tie) },
				func() error {
					if k == N {
						return nil
					}
					d := device.View{Buf: dir, Layout: device.Layout{Shape: shape, Strides: dirStrides}}
					return b.Binary(device.Xor, swap, swap, d)
				},
				func() error { return b.Where(lo(s.keys[1-s.cur]), swap, kh, kl) },
				func() error { return b.Where(hi(s.keys[1-s.cur]), swap, kl, kh) },
				func() error { return b.Where(lo(s.pos[1-s.cur]), swap, ph, pl) },
				func() error { return b.Where(hi(s.pos[1-s.cur]), swap, pl, ph) },
			}
			for _, step := range steps {
				if err := step(); err != nil {
					return err
				}
			}
			s.cur = 1 - s.cur
		}
	}
	return nil
}

// store writes the sorted positions of the real columns into indices,
// undoing the shift of NaN positions.
func (s *sortNet) store(indices device.View) error {
	b := s.b
	pos := s.rowView(s.pos[s.cur], 0, s.n)
	if !s.dt.IsFloat() {
		return b.Copy(indices, pos)
	}
	// Ascending, NaN positions are p+N >= N: subtract N where p > N-1.
	// Descending they are p-N < 0: add N where p <= -1.
	fix := s.rowView(s.pos[1-s.cur], 0, s.n)
	N := float64(s.N)
	threshold, scale, shift := N-1, -N, 0.0
	if s.descending {
		threshold, scale, shift = -1, -N, N
	}
	if err := b.Unary(device.Step, fix, pos, threshold, 0); err != nil {
		return err
	}
	if err := b.Unary(device.Affine, fix, fix, scale, shift); err != nil {
		return err
	}
	return b.Binary(device.Add, indices, pos, fix)
}
