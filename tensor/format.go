package tensor

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// printEdge is how many leading and trailing entries of each dimension a
// summarised tensor shows, and printThreshold the size above which it is
// summarised, as in PyTorch.
const (
	printEdge      = 3
	printThreshold = 1000
)

// String formats t as PyTorch prints tensors, for example
// "tensor([[0.8522, 0.3964]])", followed by the dtype when it is neither
// float32, int64 nor bool, and the device when it is not the CPU. Tensors
// on other devices are copied to the host for printing.
func (t *Tensor) String() string {
	vals := toFloat64s(t.hostCopy("String"))
	f := newFormatter(t.DType(), vals)
	var sb strings.Builder
	sb.WriteString("tensor(")
	summarise := t.Numel() > printThreshold
	if t.Dim() == 0 {
		sb.WriteString(strings.TrimSpace(f.format(vals[0])))
	} else {
		writeNested(&sb, f, vals, t.layout.Shape, 0, len("tensor("), summarise)
	}
	var extra []string
	if t.Numel() == 0 && t.Dim() != 1 {
		extra = append(extra, fmt.Sprintf("size=%v", t.layout.Shape))
	}
	if dt := t.DType(); dt != Float32 && dt != Int64 && dt != Bool {
		extra = append(extra, "dtype="+dt.String())
	}
	if !t.Device().IsCPU() {
		extra = append(extra, "device='"+t.Device().String()+"'")
	}
	for _, e := range extra {
		sb.WriteString(", " + e)
	}
	sb.WriteString(")")
	return sb.String()
}

// formatter renders every element with one width and style, chosen from
// all the values as PyTorch does: integers as "3.", plain decimals with
// four places, or scientific notation when the range is wide.
type formatter struct {
	kind  byte // 'b' bool, 'i' integer dtype, 'n' integral floats, 'f' fixed, 'e' scientific
	width int
}

func newFormatter(dt DType, vals []float64) formatter {
	f := formatter{kind: 'f'}
	switch {
	case dt == Bool:
		f.kind = 'b'
	case !dt.IsFloat():
		f.kind = 'i'
	default:
		integral := true
		maxAbs, minAbs := 0.0, math.Inf(1)
		for _, v := range vals {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			if v != math.Trunc(v) {
				integral = false
			}
			a := math.Abs(v)
			maxAbs = max(maxAbs, a)
			if a != 0 {
				minAbs = min(minAbs, a)
			}
		}
		switch {
		case integral && maxAbs < 1e8:
			f.kind = 'n'
		case maxAbs >= 1e8 || minAbs < 1e-4 || maxAbs/minAbs > 1000:
			f.kind = 'e'
		}
	}
	for _, v := range vals {
		f.width = max(f.width, len(f.format(v)))
	}
	return f
}

func (f formatter) format(v float64) string {
	var s string
	switch {
	case f.kind == 'b':
		s = "False"
		if v != 0 {
			s = "True"
		}
	case math.IsNaN(v):
		s = "nan"
	case math.IsInf(v, 1):
		s = "inf"
	case math.IsInf(v, -1):
		s = "-inf"
	case f.kind == 'i':
		s = strconv.FormatInt(int64(v), 10)
	case f.kind == 'n':
		s = strconv.FormatFloat(v, 'f', 0, 64) + "."
	case f.kind == 'e':
		s = strconv.FormatFloat(v, 'e', 4, 64)
	default:
		s = strconv.FormatFloat(v, 'f', 4, 64)
	}
	if len(s) < f.width {
		s = strings.Repeat(" ", f.width-len(s)) + s
	}
	return s
}

// writeNested writes the bracketed rows of vals (row-major, shape) at
// nesting depth d; indent is the column of the outermost bracket.
func writeNested(sb *strings.Builder, f formatter, vals []float64, shape []int, d, indent int, summarise bool) {
	sb.WriteString("[")
	n := shape[0]
	stride := len(vals) / max(n, 1)
	skip := func(i int) bool { return summarise && n > 2*printEdge && i >= printEdge && i < n-printEdge }
	for i := 0; i < n; i++ {
		if skip(i) {
			if i == printEdge {
				if len(shape) == 1 {
					sb.WriteString(" ...,")
				} else {
					sb.WriteString("\n" + strings.Repeat(" ", indent+d+1) + "...,")
					sb.WriteString(strings.Repeat("\n", len(shape)-1) + strings.Repeat(" ", indent+d+1))
				}
			}
			continue
		}
		if len(shape) == 1 {
			if i > 0 {
				sb.WriteString(" ")
			}
			sb.WriteString(f.format(vals[i]))
		} else {
			writeNested(sb, f, vals[i*stride:(i+1)*stride], shape[1:], d+1, indent, summarise)
		}
		if i < n-1 {
			sb.WriteString(",")
			if len(shape) > 1 && !skip(i+1) {
				sb.WriteString(strings.Repeat("\n", len(shape)-1) + strings.Repeat(" ", indent+d+1))
			}
		}
	}
	sb.WriteString("]")
}
