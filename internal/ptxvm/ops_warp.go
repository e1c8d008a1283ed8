package ptxvm

// Warp-wide instructions: shfl.sync, vote.sync, bar.warp.sync and
// mma.sync. Each needs the lanes its member mask names to execute it
// together; a lane that is elsewhere (divergent, exited or predicated
// off) fails the launch, as the PTX ISA makes that undefined.

import (
	"math/bits"
	"strings"
)

// checkMembers faults unless every existing lane of member is in m.
func (wp *warp) checkMembers(member, m uint32, what string) bool {
	member &= wp.lanes
	if missing := member &^ m; missing != 0 {
		l := bits.TrailingZeros32(m)
		wp.laneFault(l, FaultDivergence, 0, "%s with member mask %#08x, but lane %d is not executing it with lane %d (diverged, predicated off or exited)",
			what, member, bits.TrailingZeros32(missing), l)
		return false
	}
	return true
}

func (c *compiler) buildShfl(st stmt, in *inst, mods []string) error {
	mode := ""
	for _, m := range mods {
		switch m {
		case "up", "down", "bfly", "idx":
			mode = m
		}
	}
	if mode == "" || !has(mods, "sync") {
		return c.errf(st, "only shfl.sync.{up,down,bfly,idx}.b32 is supported")
	}
	if len(st.operands) != 5 {
		return c.errf(st, "shfl.sync takes 5 operands")
	}
	dst := st.operands[0]
	hasP := false
	if i := strings.IndexByte(dst, '|'); i >= 0 {
		p, err := c.dest(st, dst[i+1:])
		if err != nil {
			return err
		}
		in.d[1], hasP = p, true
		dst = dst[:i]
	}
	d, err := c.dest(st, dst)
	if err != nil {
		return err
	}
	in.d[0] = d
	if err := c.sources(st, in, 1, ".b32"); err != nil {
		return err
	}
	in.ctl = ctlWarpSync
	in.exec = func(wp *warp, in *inst, m uint32) {
		r := wp.r
		first := bits.TrailingZeros32(m)
		member := uint32(r[in.a[3]+int32(first)])
		if !wp.checkMembers(member, m, "shfl.sync") {
			return
		}
		var val [32]uint64
		var ok [32]bool
		for mm := m; mm != 0; mm &= mm - 1 {
			lane := bits.TrailingZeros32(mm)
			l := int32(lane)
			b := uint32(r[in.a[1]+l]) & 0x1f
			cv := uint32(r[in.a[2]+l])
			clamp, seg := cv&0x1f, cv>>8&0x1f
			maxLane := uint32(lane)&seg | clamp&^seg
			minLane := uint32(lane) & seg
			var j uint32
			var p bool
			switch mode {
			case "up":
				jj := int32(lane) - int32(b)
				p = jj >= int32(maxLane)
				j = uint32(jj)
			case "down":
				j = uint32(lane) + b
				p = j <= maxLane
			case "bfly":
				j = uint32(lane) ^ b
				p = j <= maxLane
			case "idx":
				j = minLane | b&^seg
				p = j <= maxLane
			}
			if !p {
				j = uint32(lane)
			}
			if m&(1<<j) == 0 {
				wp.laneFault(lane, FaultDivergence, 0, "shfl.sync.%s: lane %d reads lane %d, which is not executing the shuffle", mode, lane, j)
				return
			}
			val[lane], ok[lane] = r[in.a[0]+int32(j)]&0xffffffff, p
		}
		for mm := m; mm != 0; mm &= mm - 1 {
			lane := bits.TrailingZeros32(mm)
			r[in.d[0]+int32(lane)] = val[lane]
			if hasP {
				r[in.d[1]+int32(lane)] = b2u(ok[lane])
			}
		}
	}
	return nil
}

func (c *compiler) buildVote(st stmt, in *inst, mods []string) error {
	mode := ""
	for _, m := range mods {
		switch m {
		case "all", "any", "uni", "ballot":
			mode = m
		}
	}
	if mode == "" || !has(mods, "sync") || len(st.operands) != 3 {
		return c.errf(st, "only vote.sync.{all,any,uni,ballot} is supported")
	}
	d, err := c.dest(st, st.operands[0])
	if err != nil {
		return err
	}
	in.d[0] = d
	if err := c.sources(st, in, 1, ".pred"); err != nil {
		return err
	}
	in.ctl = ctlWarpSync
	in.exec = func(wp *warp, in *inst, m uint32) {
		r := wp.r
		member := uint32(r[in.a[1]+int32(bits.TrailingZeros32(m))])
		if !wp.checkMembers(member, m, "vote.sync") {
			return
		}
		var ballot uint32
		for mm := m & member; mm != 0; mm &= mm - 1 {
			l := bits.TrailingZeros32(mm)
			if r[in.a[0]+int32(l)]&1 != 0 {
				ballot |= 1 << l
			}
		}
		active := m & member
		var v uint64
		switch mode {
		case "ballot":
			v = uint64(ballot)
		case "all":
			v = b2u(ballot == active)
		case "any":
			v = b2u(ballot != 0)
		case "uni":
			v = b2u(ballot == 0 || ballot == active)
		}
		for mm := m; mm != 0; mm &= mm - 1 {
			r[in.d[0]+int32(bits.TrailingZeros32(mm))] = v
		}
	}
	return nil
}

func (c *compiler) buildWarpSync(st stmt, in *inst) error {
	if err := c.sources(st, in, 0, ".b32"); err != nil {
		return err
	}
	if in.na != 1 {
		return c.errf(st, "bar.warp.sync takes a member mask")
	}
	in.ctl = ctlWarpSync
	in.exec = func(wp *warp, in *inst, m uint32) {
		member := uint32(wp.r[in.a[0]+int32(bits.TrailingZeros32(m))])
		wp.checkMembers(member, m, "bar.warp.sync")
	}
	return nil
}

// buildMMA compiles mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
// with the PTX ISA's fragment layouts: with g = lane>>2 and t = lane&3,
// A (16x8, row-major) a0:(g, t) a1:(g+8, t) a2:(g, t+4) a3:(g+8, t+4);
// B (8x8, column-major) b0:(t, g) b1:(t+4, g); C and D (16x8)
// c0:(g, 2t) c1:(g, 2t+1) c2:(g+8, 2t) c3:(g+8, 2t+1).
func (c *compiler) buildMMA(st stmt, in *inst, mods []string) error {
	if strings.Join(mods, ".") != "sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32" {
		return c.errf(st, "only mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 is supported")
	}
	if len(st.operands) != 4 {
		return c.errf(st, "mma takes 4 operands")
	}
	dv, av, bv, cv := vector(st.operands[0]), vector(st.operands[1]), vector(st.operands[2]), vector(st.operands[3])
	if len(dv) != 4 || len(av) != 4 || len(bv) != 2 || len(cv) != 4 {
		return c.errf(st, "mma.m16n8k8 takes {4 f32}, {4 b32}, {2 b32}, {4 f32}")
	}
	var slots [14]int32
	for i, o := range dv {
		s, err := c.dest(st, o)
		if err != nil {
			return err
		}
		slots[i] = s
	}
	for i, o := range append(append(av, bv...), cv...) {
		s, err := c.source(st, in, o, ".b32")
		if err != nil {
			return err
		}
		slots[4+i] = s
	}
	// inst has room for 4 destinations and 4 sources; the rest go in
	// an mmaOperands kept by the closure.
	var ops [14]int32
	for i := range slots {
		ops[i] = slots[i] * 32
	}
	in.ctl = ctlWarpSync
	in.exec = func(wp *warp, in *inst, m uint32) {
		if !wp.checkMembers(0xffffffff, m, "mma.sync") {
			return
		}
		if wp.lanes != 0xffffffff {
			wp.laneFault(0, FaultDivergence, 0, "mma.sync needs a full warp of 32 threads")
			return
		}
		r := wp.r
		var A [16][8]float64
		var B [8][8]float64
		var C [16][8]float32
		tf := func(v uint64) float64 { return float64(f32frombits(uint32(v) &^ 0x1fff)) }
		for lane := int32(0); lane < 32; lane++ {
			g, t := lane>>2, lane&3
			A[g][t] = tf(r[ops[4]+lane])
			A[g+8][t] = tf(r[ops[5]+lane])
			A[g][t+4] = tf(r[ops[6]+lane])
			A[g+8][t+4] = tf(r[ops[7]+lane])
			B[t][g] = tf(r[ops[8]+lane])
			B[t+4][g] = tf(r[ops[9]+lane])
			C[g][2*t] = f32frombits(uint32(r[ops[10]+lane]))
			C[g][2*t+1] = f32frombits(uint32(r[ops[11]+lane]))
			C[g+8][2*t] = f32frombits(uint32(r[ops[12]+lane]))
			C[g+8][2*t+1] = f32frombits(uint32(r[ops[13]+lane]))
		}
		var D [16][8]float32
		for i := 0; i < 16; i++ {
			for j := 0; j < 8; j++ {
				// TF32 products are exact in float64; the sum is rounded
				// once to float32 with the accumulator.
				s := float64(C[i][j])
				for k := 0; k < 8; k++ {
					s += A[i][k] * B[k][j]
				}
				D[i][j] = float32(s)
			}
		}
		for lane := int32(0); lane < 32; lane++ {
			g, t := lane>>2, lane&3
			r[ops[0]+lane] = uint64(f32bits(D[g][2*t]))
			r[ops[1]+lane] = uint64(f32bits(D[g][2*t+1]))
			r[ops[2]+lane] = uint64(f32bits(D[g+8][2*t]))
			r[ops[3]+lane] = uint64(f32bits(D[g+8][2*t+1]))
		}
	}
	return nil
}
