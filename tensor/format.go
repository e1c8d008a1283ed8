package tensor

import (
	"math"
	"strconv"
	"strings"
)

// Printing options, PyTorch's defaults: printEdge is how many leading and
// trailing entries of each dimension a summarised tensor shows,
// printThreshold the number of elements above which it is summarised,
// printLineWidth the width at which rows wrap, and printPrecision the
// number of decimals.
const (
	printEdge      = 3
	printThreshold = 1000
	printLineWidth = 80
	printPrecision = 4
)

// String formats t as PyTorch prints tensors, for example
// "tensor([[0.8522, 0.3964]])": the same choice between integral ("3."),
// fixed ("0.5000") and scientific ("1.0000e-05") notation, the same
// alignment, line wrapping at 80 columns and summarising ("...") of
// tensors with more than 1000 elements. The device follows when it is not
// the CPU and the dtype when it is neither float32, int64 nor bool (for
// example ", dtype=float64"; PyTorch writes "torch.float64"). Tensors on
// other devices are copied to the host for printing.
func (t *Tensor) String() string {
	const prefix = "tensor("
	var suffixes []string
	if !t.Device().IsCPU() {
		suffixes = append(suffixes, "device='"+t.Device().String()+"'")
	}
	dt := t.DType()
	var body string
	if t.Numel() == 0 {
		if t.Dim() != 1 {
			suffixes = append(suffixes, "size="+pyTuple(t.layout.Shape))
		}
		// An empty tensor shows no values to tell its dtype by.
		if dt != Float32 {
			suffixes = append(suffixes, "dtype="+dt.String())
		}
		body = "[]"
	} else {
		if dt != Float32 && dt != Int64 && dt != Bool {
			suffixes = append(suffixes, "dtype="+dt.String())
		}
		p := printer{host: t.hostCopy("String"), shape: t.layout.Shape, summarise: t.Numel() > printThreshold}
		p.f = newFormatter(dt, p)
		body = p.tensor(0, 0, len(prefix))
	}
	return addSuffixes(prefix+body, suffixes, len(prefix))
}

// pyTuple formats a shape as Python prints a tuple: (2, 0), (3,) or ().
func pyTuple(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = strconv.Itoa(d)
	}
	if len(parts) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// addSuffixes appends ", suffix" for each suffix, starting a new line
// when the current one would pass the line width, and closes the
// parenthesis (torch._tensor_str._add_suffixes).
func addSuffixes(s string, suffixes []string, indent int) string {
	var sb strings.Builder
	sb.WriteString(s)
	lastLine := len(s) - strings.LastIndex(s, "\n") + 1
	for _, suffix := range suffixes {
		if lastLine+len(suffix)+2 > printLineWidth {
			sb.WriteString(",\n" + strings.Repeat(" ", indent) + suffix)
			lastLine = indent + len(suffix)
		} else {
			sb.WriteString(", " + suffix)
			lastLine += len(suffix) + 2
		}
	}
	sb.WriteString(")")
	return sb.String()
}

// printer walks a host copy of a tensor's elements in row-major order.
type printer struct {
	host      any // []float32, []float64, []int64, []bool or []uint8
	shape     []int
	summarise bool
	f         formatter
}

// value returns element i as a float64 (for choosing the float format).
func (p printer) value(i int) float64 {
	switch h := p.host.(type) {
	case []float32:
		return float64(h[i])
	case []float64:
		return h[i]
	case []int64:
		return float64(h[i])
	case []uint8:
		return float64(h[i])
	case []bool:
		if h[i] {
			return 1
		}
	}
	return 0
}

// shown returns the positions along a dimension of size n that are
// printed: all of them, or the first and last printEdge when summarising.
func (p printer) shown(n int) (idx []int, elided bool) {
	if p.summarise && n > 2*printEdge {
		for i := range printEdge {
			idx = append(idx, i)
		}
		for i := n - printEdge; i < n; i++ {
			idx = append(idx, i)
		}
		return idx, true
	}
	idx = make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx, false
}

// visible calls fn with the flat index of every element that is printed
// (torch._tensor_str.get_summarized_data).
func (p printer) visible(fn func(i int)) {
	var walk func(base, d int)
	walk = func(base, d int) {
		if d == len(p.shape) {
			fn(base)
			return
		}
		stride := 1
		for _, s := range p.shape[d+1:] {
			stride *= s
		}
		idx, _ := p.shown(p.shape[d])
		for _, i := range idx {
			walk(base+i*stride, d+1)
		}
	}
	walk(0, 0)
}

// tensor formats the sub-tensor at flat offset base and dimension d, whose
// opening bracket sits at column indent (torch's _tensor_str_with_formatter).
func (p printer) tensor(base, d, indent int) string {
	rank := len(p.shape) - d
	if rank == 0 {
		return p.f.format(p, base)
	}
	if rank == 1 {
		return p.vector(base, p.shape[d], indent)
	}
	stride := 1
	for _, s := range p.shape[d+1:] {
		stride *= s
	}
	idx, elided := p.shown(p.shape[d])
	var slices []string
	for k, i := range idx {
		if elided && k == printEdge {
			slices = append(slices, "...")
		}
		slices = append(slices, p.tensor(base+i*stride, d+1, indent+1))
	}
	sep := "," + strings.Repeat("\n", rank-1) + strings.Repeat(" ", indent+1)
	return "[" + strings.Join(slices, sep) + "]"
}

// vector formats a row of n elements, wrapping at the line width.
func (p printer) vector(base, n, indent int) string {
	perLine := max(1, (printLineWidth-indent)/(p.f.width+2))
	idx, elided := p.shown(n)
	var data []string
	for k, i := range idx {
		if elided && k == printEdge {
			data = append(data, " ...")
		}
		data = append(data, p.f.format(p, base+i))
	}
	var lines []string
	for i := 0; i < len(data); i += perLine {
		lines = append(lines, strings.Join(data[i:min(i+perLine, len(data))], ", "))
	}
	return "[" + strings.Join(lines, ",\n"+strings.Repeat(" ", indent+1)) + "]"
}

// formatter renders every element with one width and style, chosen from
// the printed values as PyTorch's _Formatter does: integers as "3.", plain
// decimals with four places, or scientific notation when the range is
// wide.
type formatter struct {
	kind  byte // 'b' bool, 'i' integer dtype, 'n' integral floats, 'f' fixed, 'e' scientific
	width int
}

func newFormatter(dt DType, p printer) formatter {
	f := formatter{width: 1}
	switch {
	case dt == Bool:
		f.kind = 'b'
	case !dt.IsFloat():
		f.kind = 'i'
	}
	if f.kind != 0 {
		p.visible(func(i int) { f.width = max(f.width, len(f.format(p, i))) })
		return f
	}
	// Floats: the style depends on the nonzero finite values only.
	integral, found := true, false
	maxAbs, minAbs := 0.0, math.Inf(1)
	p.visible(func(i int) {
		v := p.value(i)
		if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		found = true
		if v != math.Ceil(v) {
			integral = false
		}
		a := math.Abs(v)
		maxAbs, minAbs = max(maxAbs, a), min(minAbs, a)
	})
	f.kind = 'n'
	if !found {
		return f
	}
	switch {
	case maxAbs/minAbs > 1000 || maxAbs > 1e8:
		f.kind = 'e'
	case !integral && minAbs < 1e-4:
		f.kind = 'e'
	case !integral:
		f.kind = 'f'
	}
	p.visible(func(i int) {
		v := p.value(i)
		if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		f.width = max(f.width, len(f.text(v)))
	})
	return f
}

// format renders element i of p, padded on the left to the common width.
func (f formatter) format(p printer, i int) string {
	var s string
	switch h := p.host.(type) {
	case []int64:
		s = strconv.FormatInt(h[i], 10)
	case []uint8:
		s = strconv.Itoa(int(h[i]))
	case []bool:
		s = "False"
		if h[i] {
			s = "True"
		}
	default:
		s = f.text(p.value(i))
	}
	if len(s) < f.width {
		s = strings.Repeat(" ", f.width-len(s)) + s
	}
	return s
}

// text renders a float value in f's style, unpadded, as Python's format
// does ("nan", "inf", "3.", "0.5000", "1.0000e-05").
func (f formatter) text(v float64) string {
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	switch f.kind {
	case 'n':
		return strconv.FormatFloat(v, 'f', 0, 64) + "."
	case 'e':
		return strconv.FormatFloat(v, 'e', printPrecision, 64)
	}
	return strconv.FormatFloat(v, 'f', printPrecision, 64)
}
