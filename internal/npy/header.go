package npy

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/nabla-go/nabla/device"
)

// header is a parsed .npy header dict.
type header struct {
	descr   string
	fortran bool
	shape   []int
}

// hparser is a strict parser for the Python dict literal of a .npy header:
// string keys, string / True / False / tuple-of-int values, optional
// trailing commas, spaces and newlines. It evaluates nothing.
type hparser struct {
	s   []byte
	pos int
}

func (p *hparser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: header at byte %d: %s", ErrInvalid, p.pos, fmt.Sprintf(format, args...))
}

func (p *hparser) skipSpace() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte without consuming it, or 0 at the
// end.
func (p *hparser) peek() byte {
	p.skipSpace()
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *hparser) expect(c byte) error {
	got := p.peek()
	if got != c {
		return p.errorf("want %q, got %s", c, p.describe())
	}
	p.pos++
	return nil
}

// describe names what is at the current position, for error messages.
func (p *hparser) describe() string {
	if p.pos >= len(p.s) {
		return "the end of the header"
	}
	end := min(p.pos+16, len(p.s))
	return strconv.Quote(string(p.s[p.pos:end]))
}

// str parses a quoted string without escapes.
func (p *hparser) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", p.errorf("want a string, got %s", p.describe())
	}
	start := p.pos + 1
	for i := start; i < len(p.s); i++ {
		switch p.s[i] {
		case q:
			p.pos = i + 1
			return string(p.s[start:i]), nil
		case '\\', '\n', '\r':
			p.pos = i
			return "", p.errorf("unsupported character %q in a string", p.s[i])
		}
	}
	return "", p.errorf("unterminated string")
}

// word parses an identifier such as True or False.
func (p *hparser) word() string {
	p.skipSpace()
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			p.pos++
			continue
		}
		break
	}
	return string(p.s[start:p.pos])
}

// dim parses a non-negative integer (a trailing L, as Python 2 wrote
// longs, is accepted).
func (p *hparser) dim() (int, error) {
	p.skipSpace()
	start := p.pos
	for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
		p.pos++
	}
	digits := string(p.s[start:p.pos])
	if digits == "" {
		return 0, p.errorf("want a non-negative integer, got %s", p.describe())
	}
	if p.pos < len(p.s) && (p.s[p.pos] == 'L' || p.s[p.pos] == 'l') {
		p.pos++
	}
	v, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || v > math.MaxInt {
		return 0, fmt.Errorf("%w: shape entry %s is too large", ErrInvalid, digits)
	}
	return int(v), nil
}

// shape parses a tuple of non-negative integers: (), (3,), (2, 3), (2, 3,).
func (p *hparser) shape() ([]int, error) {
	if err := p.expect('('); err != nil {
		return nil, err
	}
	dims := []int{}
	for p.peek() != ')' {
		if len(dims) == MaxRank {
			return nil, fmt.Errorf("%w: shape has more than %d dimensions", ErrInvalid, MaxRank)
		}
		d, err := p.dim()
		if err != nil {
			return nil, err
		}
		dims = append(dims, d)
		switch p.peek() {
		case ',':
			p.pos++
		case ')':
			if len(dims) == 1 {
				return nil, p.errorf("shape (%d) is not a tuple; a 1-d shape is written (%d,)", d, d)
			}
		default:
			return nil, p.errorf("want ',' or ')' in shape, got %s", p.describe())
		}
	}
	p.pos++ // ')'
	return dims, nil
}

// parseHeader parses and checks a header dict. It requires exactly the keys
// descr, fortran_order and shape, as NumPy does.
func parseHeader(s []byte) (header, error) {
	p := &hparser{s: s}
	var h header
	var haveDescr, haveFortran, haveShape bool
	if err := p.expect('{'); err != nil {
		return h, err
	}
	for p.peek() != '}' {
		key, err := p.str()
		if err != nil {
			return h, err
		}
		if err := p.expect(':'); err != nil {
			return h, err
		}
		switch key {
		case "descr":
			if haveDescr {
				return h, p.errorf("duplicate key 'descr'")
			}
			haveDescr = true
			if c := p.peek(); c == '[' || c == '{' {
				return h, fmt.Errorf("%w: structured dtypes are not supported", ErrUnsupportedDType)
			}
			if h.descr, err = p.str(); err != nil {
				return h, err
			}
		case "fortran_order":
			if haveFortran {
				return h, p.errorf("duplicate key 'fortran_order'")
			}
			haveFortran = true
			switch w := p.word(); w {
			case "True":
				h.fortran = true
			case "False":
				h.fortran = false
			default:
				return h, p.errorf("fortran_order must be True or False, got %q", w)
			}
		case "shape":
			if haveShape {
				return h, p.errorf("duplicate key 'shape'")
			}
			haveShape = true
			if h.shape, err = p.shape(); err != nil {
				return h, err
			}
		default:
			return h, p.errorf("unexpected key %q (a header has exactly descr, fortran_order and shape)", key)
		}
		switch p.peek() {
		case ',':
			p.pos++
		case '}':
		default:
			return h, p.errorf("want ',' or '}', got %s", p.describe())
		}
	}
	p.pos++ // '}'
	p.skipSpace()
	if p.pos != len(s) {
		return h, p.errorf("unexpected %s after the header dict", p.describe())
	}
	var missing []string
	if !haveDescr {
		missing = append(missing, "descr")
	}
	if !haveFortran {
		missing = append(missing, "fortran_order")
	}
	if !haveShape {
		missing = append(missing, "shape")
	}
	if len(missing) > 0 {
		return h, fmt.Errorf("%w: header lacks %s", ErrInvalid, strings.Join(missing, ", "))
	}
	return h, nil
}

// parseDescr maps a descr to a nabla dtype and reports whether the data is
// big-endian (and so must be byte-swapped).
func parseDescr(descr string) (device.DType, bool, error) {
	if len(descr) < 2 {
		return 0, false, fmt.Errorf("%w: bad descr %q", ErrInvalid, descr)
	}
	order, kind := descr[0], descr[1:]
	switch order {
	case '<', '>', '|', '=':
	default:
		// NumPy always writes a byte-order character; without one the
		// descr is a type NumPy spells differently ('float32', 'O', ...).
		return 0, false, fmt.Errorf("%w: descr %q (nabla supports '<f4', '<f8', '<i8', '|b1', '|u1')", ErrUnsupportedDType, descr)
	}
	dt, ok := kindOf[kind]
	if !ok {
		return 0, false, fmt.Errorf("%w: descr %q (nabla supports '<f4', '<f8', '<i8', '|b1', '|u1')", ErrUnsupportedDType, descr)
	}
	if dt.Size() == 1 {
		return dt, false, nil // byte order does not matter
	}
	switch order {
	case '<':
		return dt, false, nil
	case '>':
		return dt, true, nil
	}
	return 0, false, fmt.Errorf("%w: descr %q has no definite byte order ('<' or '>')", ErrInvalid, descr)
}
