package ptxvm

import "sync"

// The executable form of a kernel. Every operand of an instruction is a
// register slot: PTX registers, special registers (%tid.x, ...) and
// immediates alike (an immediate is a slot filled with its value in every
// lane when the warp is set up), so the instruction loops never branch on
// the kind of operand. Slots hold 64 bits; a narrower value sits in the
// low bits and every read truncates to the instruction's type.

// lanesFn runs an instruction for the lanes in m.
type lanesFn func(w *warp, in *inst, m uint32)

// control flow kinds of instructions
const (
	ctlNone uint8 = iota
	ctlBra
	ctlBar
	ctlExit
	ctlCall
	ctlRet
	ctlTrap
	ctlWarpSync
)

// memory spaces of ld/st/atom operands
const (
	spGeneric uint8 = iota
	spGlobal
	spShared
	spLocal
	spParamKernel // the launch's parameter buffer
	spParamFrame  // a .func's or call site's parameters, in the thread's frame area
)

// inst is one compiled instruction.
type inst struct {
	exec  lanesFn
	ctl   uint8
	guard int32 // slot*32 of the guard predicate, or -1
	gneg  bool

	d  [4]int32 // destination slots, times 32 (lane 0's index in warp.r)
	a  [6]int32 // source slots, times 32
	na int8     // sources resolved so far

	// memory operands
	space uint8
	width uint8 // bytes per element
	vec   uint8 // elements
	off   int64 // constant offset added to the address slot a[0]
	atom  bool

	target int32 // branch target or callee entry
	call   *callSite

	line int32
	fn   *funcInfo
	text string
}

// callSite is a .func call: where the arguments and results are copied.
type callSite struct {
	callee *funcInfo
	args   []frameCopy // caller's argument variables -> callee's parameters
	rets   []frameCopy // callee's return variables -> caller's result variables
}

// frameCopy copies size bytes within a thread's frame area.
type frameCopy struct{ from, to, size int }

// funcInfo is a compiled .entry or .func.
type funcInfo struct {
	name  string
	entry bool
	start int32
}

// paramInfo is an .entry parameter.
type paramInfo struct {
	name   string
	offset int
	size   int
	align  int
}

// special register kinds
const (
	srTidX = iota
	srTidY
	srTidZ
	srNtidX
	srNtidY
	srNtidZ
	srCtaidX
	srCtaidY
	srCtaidZ
	srNctaidX
	srNctaidY
	srNctaidZ
	srLaneid
	srWarpid
	srNwarpid
	srSmid
	srNsmid
	srLanemaskEq
	srLanemaskLt
	srLanemaskLe
	srLanemaskGt
	srLanemaskGe
	srClock
	srClock64
	srDynSmem
	srTotalSmem
	srGridid
	numSpecial
)

var specialNames = map[string]int{
	"%tid.x": srTidX, "%tid.y": srTidY, "%tid.z": srTidZ,
	"%ntid.x": srNtidX, "%ntid.y": srNtidY, "%ntid.z": srNtidZ,
	"%ctaid.x": srCtaidX, "%ctaid.y": srCtaidY, "%ctaid.z": srCtaidZ,
	"%nctaid.x": srNctaidX, "%nctaid.y": srNctaidY, "%nctaid.z": srNctaidZ,
	"%laneid": srLaneid, "%warpid": srWarpid, "%nwarpid": srNwarpid,
	"%smid": srSmid, "%nsmid": srNsmid,
	"%lanemask_eq": srLanemaskEq, "%lanemask_lt": srLanemaskLt, "%lanemask_le": srLanemaskLe,
	"%lanemask_gt": srLanemaskGt, "%lanemask_ge": srLanemaskGe,
	"%clock": srClock, "%clock64": srClock64,
	"%dynamic_smem_size": srDynSmem, "%total_smem_size": srTotalSmem,
	"%gridid": srGridid,
}

// constSlot is a slot holding the same value in every lane.
type constSlot struct {
	slot int32
	v    uint64
}

// specialSlot is a slot holding a special register.
type specialSlot struct {
	slot int32
	kind int
}

// program is a compiled kernel: its entry and every .func it calls.
type program struct {
	name     string
	code     []inst
	nslots   int
	consts   []constSlot
	specials []specialSlot
	entry    int32

	params    []paramInfo
	paramSize int

	sharedStatic int  // bytes of static shared memory
	dynShared    bool // declares an extern (dynamic) shared array
	localSize    int  // bytes of local memory per thread (depots and call frames)
	maxntid      [3]int
	reqntid      [3]int

	// carry is the slot of the carry flag of add.cc and friends.
	carry int32

	workers sync.Pool // *worker, for the next launch
}
