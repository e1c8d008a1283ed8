package nn

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/tensor"
)

// Summary describes m layer by layer, like torchinfo's summary of a
// PyTorch model: every module of the tree with its name and type, the
// shape of its output for an input of shape inputShape, and its number of
// parameters (its sub-modules' included), then the totals:
//
//	Layer (type)      Output shape  Param #
//	=======================================
//	Sequential        [64, 10]      101,770
//	  0 (Flatten)     [64, 784]           0
//	  1 (Linear)      [64, 128]     100,480
//	  ...
//
// It runs one forward pass on zeros of inputShape (of the dtype and on the
// device of m's first parameter; Float32 on the CPU without parameters) in
// evaluation mode and without recording gradients, then puts m back in
// training mode if it was in it: the model, its running statistics and
// the random streams are left as they were. The built-in layers report
// their outputs; a module of your own reports its output only as the
// root (its sub-modules' are shown), otherwise "-". A forward pass that
// fails (the input shape does not fit the model) returns the error.
func Summary(m Module, inputShape ...int) (string, error) {
	if m == nil {
		return "", fmt.Errorf("nn: Summary: nil module")
	}
	if b := baseOf(m); b != nil && b.self == nil {
		b.self = m
	}
	opts := tensor.Of(tensor.Float32)
	for _, p := range append(m.NamedParameters(), m.NamedBuffers()...) {
		if t := p.Var.Detach(); t.DType().IsFloat() {
			opts = tensor.On(t.Device()).Of(t.DType())
			break
		}
	}
	var x *tensor.Tensor
	if err := tensor.Catch(func() { x = opts.Zeros(inputShape...) }); err != nil {
		return "", fmt.Errorf("nn: Summary: input shape %v: %w", inputShape, err)
	}

	summaryMu.Lock()
	defer summaryMu.Unlock()
	tr := &trace{shapes: map[Module][]int{}}
	tracer.Store(tr)
	defer tracer.Store(nil)
	if m.Training() {
		defer m.Train()
	}
	m.Eval()
	var out *autograd.Var
	err := tensor.Catch(func() { autograd.NoGrad(func() { out = m.Forward(autograd.Const(x)) }) })
	if err != nil {
		return "", fmt.Errorf("nn: Summary: forward pass of %s on an input of shape %v: %w", moduleName(m), inputShape, err)
	}
	tr.record(m, out.Shape())
	return tr.table(m, inputShape), nil
}

// summaryMu lets one Summary trace at a time.
var summaryMu sync.Mutex

// tracer is the trace of the Summary in progress, or nil: the built-in
// layers' Forward methods report their outputs to it.
var tracer atomic.Pointer[trace]

// trace holds the output shape each module produced (its last call's).
type trace struct {
	mu     sync.Mutex
	shapes map[Module][]int
}

func (tr *trace) record(m Module, shape []int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.shapes[m] = shape
}

// observe reports out as m's output to the Summary in progress, if any,
// and returns out: the built-in layers end their Forward with it.
func observe(m Module, out *autograd.Var) *autograd.Var {
	if tr := tracer.Load(); tr != nil {
		tr.record(m, out.Shape())
	}
	return out
}

// tracing reports whether a Summary is tracing forward passes (Sequential
// then runs its layers one by one instead of fusing them, so that each
// reports its output).
func tracing() bool { return tracer.Load() != nil }

// summaryRow is one line of the table.
type summaryRow struct{ layer, shape, params string }

// table formats the module tree with the traced shapes.
func (tr *trace) table(m Module, inputShape []int) string {
	var rows []summaryRow
	var walk func(name string, m Module, depth int)
	walk = func(name string, m Module, depth int) {
		label := moduleName(m)
		if name != "" {
			label = name + " (" + label + ")"
		}
		shape := "-"
		if s, ok := tr.shapes[m]; ok {
			shape = pyShape(s)
		}
		rows = append(rows, summaryRow{strings.Repeat("  ", depth) + label, shape, thousands(NumParameters(m))})
		if b := baseOf(m); b != nil {
			for _, c := range b.children {
				walk(c.name, c.m, depth+1)
			}
		}
	}
	walk("", m, 0)

	head := summaryRow{"Layer (type)", "Output shape", "Param #"}
	w := [3]int{len(head.layer), len(head.shape), len(head.params)}
	for _, r := range rows {
		w[0], w[1], w[2] = max(w[0], len(r.layer)), max(w[1], len(r.shape)), max(w[2], len(r.params))
	}
	var sb strings.Builder
	line := func(r summaryRow) {
		fmt.Fprintf(&sb, "%-*s  %-*s  %*s\n", w[0], r.layer, w[1], r.shape, w[2], r.params)
	}
	rule := strings.Repeat("=", w[0]+w[1]+w[2]+4) + "\n"
	line(head)
	sb.WriteString(rule)
	for _, r := range rows {
		line(r)
	}
	sb.WriteString(rule)
	params, bytes := 0, 0
	for _, p := range m.Parameters() {
		params += p.Numel()
		bytes += p.Numel() * p.DType().Size()
	}
	buffers := 0
	for _, p := range m.NamedBuffers() {
		buffers += p.Var.Numel()
		bytes += p.Var.Numel() * p.Var.DType().Size()
	}
	fmt.Fprintf(&sb, "Total params: %s\n", thousands(params))
	fmt.Fprintf(&sb, "Buffers (not trained): %s\n", thousands(buffers))
	fmt.Fprintf(&sb, "Input shape: %s\n", pyShape(inputShape))
	fmt.Fprintf(&sb, "Parameters and buffers: %.2f MB", float64(bytes)/(1<<20))
	return sb.String()
}

// pyShape prints a shape as PyTorch lists it: [64, 10].
func pyShape(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// thousands prints n with comma separators: 101,770.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
