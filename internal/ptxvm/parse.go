package ptxvm

// The PTX reader: it turns a module's text into declarations and
// statements whose operands are still text. compile.go gives them meaning.
// The grammar covered is what nvcc emits (and what a person writes in the
// same style): module directives, .global/.shared/.const variables with
// initialisers, .entry and .func with .param lists and performance
// directives, nested { } scopes with .reg/.local/.shared/.param
// declarations, labels, predicated instructions.

import (
	"fmt"
	"strconv"
	"strings"
)

// varDecl is a variable declaration: a .param, .global, .shared, .const
// or .local variable.
type varDecl struct {
	space  string // "param", "global", "shared", "const", "local"
	align  int
	typ    string // ".b8", ".u64", ...
	name   string
	elems  int // array length; 1 for scalars; 0 for an unsized extern array
	array  bool
	extern bool
	init   []byte
	line   int
}

// size is the variable's size in bytes.
func (v *varDecl) size() int { return typeSize(v.typ) * max(v.elems, 0) }

// stmtKind tells what a statement of a body is.
type stmtKind uint8

const (
	stInstr stmtKind = iota
	stLabel
	stReg   // .reg declaration
	stVar   // .local/.shared/.param declaration inside a body
	stOpen  // {
	stClose // }
)

// stmt is one statement of a function body.
type stmt struct {
	kind stmtKind
	line int
	// stInstr
	guard    string // predicate register, "" when unguarded
	guardNeg bool
	opcode   string   // "add.s32", "ld.global.v4.f32", ...
	operands []string // top-level operands, trimmed
	text     string   // the statement as written, for messages
	// stLabel
	label string
	// stReg
	regType  string
	regNames []string // "%r<30>" expanded by compile
	// stVar
	decl *varDecl
}

// funcDecl is an .entry or .func.
type funcDecl struct {
	name    string
	entry   bool
	params  []*varDecl
	rets    []*varDecl
	maxntid [3]int
	reqntid [3]int
	body    []stmt
	defined bool
	line    int
}

// moduleText is a parsed module.
type moduleText struct {
	version  string
	target   string
	addrSize int
	globals  []*varDecl // .global, .const and module-level .shared
	funcs    []*funcDecl
}

// parseError is a syntax error with its line.
type parseError struct {
	line int
	msg  string
}

func (e *parseError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// scanner walks the text; comments are replaced by spaces first, keeping
// line numbers.
type scanner struct {
	src  string
	pos  int
	line int
}

func stripComments(s string) string {
	b := []byte(s)
	inStr := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inStr {
			if c == '"' {
				inStr = false
			}
			continue
		}
		switch {
		case c == '"':
			inStr = true
		case c == '/' && i+1 < len(b) && b[i+1] == '/':
			for i < len(b) && b[i] != '\n' {
				b[i] = ' '
				i++
			}
		case c == '/' && i+1 < len(b) && b[i+1] == '*':
			for i < len(b) && !(b[i] == '*' && i+1 < len(b) && b[i+1] == '/') {
				if b[i] != '\n' {
					b[i] = ' '
				}
				i++
			}
			if i+1 < len(b) {
				b[i], b[i+1] = ' ', ' '
				i++
			}
		}
	}
	return string(b)
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		if c == '\n' {
			s.line++
		} else if c != ' ' && c != '\t' && c != '\r' {
			return
		}
		s.pos++
	}
}

func (s *scanner) eof() bool { s.skipSpace(); return s.pos >= len(s.src) }

func (s *scanner) peek() byte {
	s.skipSpace()
	if s.pos >= len(s.src) {
		return 0
	}
	return s.src[s.pos]
}

// until returns the text up to (not including) the first of stop at
// nesting depth zero of () and {} and [], and moves past the stop byte.
func (s *scanner) until(stop byte) (string, int, error) {
	s.skipSpace()
	start, line := s.pos, s.line
	depth := 0
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch c {
		case '\n':
			s.line++
		case '(', '{', '[':
			if depth == 0 && c == stop {
				out := s.src[start:s.pos]
				s.pos++
				return out, line, nil
			}
			depth++
		case ')', '}', ']':
			depth--
		case '"':
			for s.pos++; s.pos < len(s.src) && s.src[s.pos] != '"'; s.pos++ {
			}
		}
		if depth == 0 && c == stop {
			out := s.src[start:s.pos]
			s.pos++
			return out, line, nil
		}
		s.pos++
	}
	return "", line, &parseError{line, fmt.Sprintf("missing %q", stop)}
}

// parseModule reads a PTX module.
func parseModule(src string) (*moduleText, error) {
	s := &scanner{src: stripComments(src), line: 1}
	m := &moduleText{}
	for !s.eof() {
		if s.peek() == '{' || s.peek() == '}' {
			return nil, &parseError{s.line, "unexpected brace at module level"}
		}
		// .version, .target and .address_size end at the line's end.
		if rest := s.src[s.pos:]; strings.HasPrefix(rest, ".version") || strings.HasPrefix(rest, ".target") || strings.HasPrefix(rest, ".address_size") {
			end := strings.IndexByte(rest, '\n')
			if end < 0 {
				end = len(rest)
			}
			if err := m.directive(rest[:end], s.line); err != nil {
				return nil, err
			}
			s.pos += end
			continue
		}
		// A module-level item ends at ';' or is a function header that
		// ends at '{'. Read up to whichever comes first at depth 0.
		line := s.line
		head, isFunc, err := s.headerOrStatement()
		if err != nil {
			return nil, err
		}
		if isFunc {
			f, err := parseFuncHeader(head, line)
			if err != nil {
				return nil, err
			}
			f.body, err = parseBody(s)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.name, err)
			}
			f.defined = true
			m.funcs = append(m.funcs, f)
			continue
		}
		if err := m.directive(head, line); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// headerOrStatement reads a module-level item: the text before ';' (a
// statement) or before the '{' that opens a function body.
func (s *scanner) headerOrStatement() (string, bool, error) {
	s.skipSpace()
	start, line := s.pos, s.line
	depth := 0
	isFuncHead := false
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch c {
		case '\n':
			s.line++
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case '{':
			if depth == 0 {
				text := s.src[start:s.pos]
				if isFunctionHeader(text) {
					isFuncHead = true
					s.pos++
					return text, isFuncHead, nil
				}
			}
			depth++
		case '}':
			depth--
		case ';':
			if depth == 0 {
				text := s.src[start:s.pos]
				s.pos++
				return text, false, nil
			}
		}
		s.pos++
	}
	return "", false, &parseError{line, "unterminated statement at module level"}
}

func isFunctionHeader(text string) bool {
	f := strings.Fields(text)
	for _, w := range f {
		if w == ".entry" || w == ".func" || strings.HasPrefix(w, ".func(") {
			return !strings.Contains(text, "=")
		}
	}
	return false
}

func (m *moduleText) directive(text string, line int) error {
	f := strings.Fields(text)
	if len(f) == 0 {
		return nil
	}
	switch f[0] {
	case ".version":
		if len(f) > 1 {
			m.version = f[1]
		}
		return nil
	case ".target":
		if len(f) > 1 {
			m.target = strings.TrimSuffix(f[1], ",")
		}
		return nil
	case ".address_size":
		if len(f) > 1 {
			n, err := strconv.Atoi(f[1])
			if err != nil {
				return &parseError{line, "bad .address_size"}
			}
			m.addrSize = n
		}
		return nil
	case ".pragma", ".file", ".loc", ".section":
		return nil
	}
	if isFunctionHeader(text) {
		// A prototype: .func (...) name (...);
		fd, err := parseFuncHeader(text, line)
		if err != nil {
			return err
		}
		m.funcs = append(m.funcs, fd)
		return nil
	}
	v, err := parseVarDecl(text, line)
	if err != nil {
		return err
	}
	m.globals = append(m.globals, v)
	return nil
}

// parseVarDecl reads "[.visible|.extern] .space [.align N] .type name[N] [= {…}]".
func parseVarDecl(text string, line int) (*varDecl, error) {
	v := &varDecl{line: line, elems: 1, align: 0}
	init := ""
	if i := strings.IndexByte(text, '='); i >= 0 {
		text, init = text[:i], strings.TrimSpace(text[i+1:])
	}
	f := strings.Fields(text)
	for i := 0; i < len(f); i++ {
		w := f[i]
		switch {
		case w == ".visible" || w == ".weak" || w == ".common":
		case w == ".extern":
			v.extern = true
		case w == ".global" || w == ".shared" || w == ".const" || w == ".local" || w == ".param":
			v.space = w[1:]
		case w == ".align":
			if i+1 >= len(f) {
				return nil, &parseError{line, "missing .align value"}
			}
			n, err := strconv.Atoi(f[i+1])
			if err != nil || n <= 0 || n&(n-1) != 0 {
				return nil, &parseError{line, "bad .align " + f[i+1]}
			}
			v.align = n
			i++
		case strings.HasPrefix(w, ".") && typeSize(w) > 0 && v.typ == "":
			v.typ = w
		case strings.HasPrefix(w, ".ptr") || w == ".noreturn":
		default:
			if v.name != "" {
				return nil, &parseError{line, fmt.Sprintf("unexpected %q in declaration", w)}
			}
			v.name = w
		}
	}
	if v.space == "" || v.typ == "" || v.name == "" {
		return nil, &parseError{line, fmt.Sprintf("cannot read declaration %q", strings.TrimSpace(text))}
	}
	if i := strings.IndexByte(v.name, '['); i >= 0 {
		dim := strings.TrimSuffix(v.name[i+1:], "]")
		v.name = v.name[:i]
		v.array = true
		if dim == "" {
			v.elems = 0
		} else {
			n, err := strconv.Atoi(dim)
			if err != nil || n < 0 {
				return nil, &parseError{line, "bad array size " + dim}
			}
			v.elems = n
		}
	}
	if v.align == 0 {
		v.align = typeSize(v.typ)
	}
	if init != "" {
		b, err := parseInit(init, v.typ, line)
		if err != nil {
			return nil, err
		}
		v.init = b
	}
	return v, nil
}

// parseInit reads an initialiser {a, b, ...} of integers or raw floats.
func parseInit(s, typ string, line int) ([]byte, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "{")
	s = strings.TrimSuffix(s, "}")
	sz := typeSize(typ)
	var out []byte
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(strings.Trim(strings.TrimSpace(part), "{}"))
		if part == "" {
			continue
		}
		v, err := parseImmediate(part, typ)
		if err != nil {
			return nil, &parseError{line, "bad initialiser " + part}
		}
		for i := 0; i < sz; i++ {
			out = append(out, byte(v>>(8*i)))
		}
	}
	return out, nil
}

// parseFuncHeader reads ".visible .entry name(params) .maxntid ..." or
// ".func (rets) name(params)".
func parseFuncHeader(text string, line int) (*funcDecl, error) {
	f := &funcDecl{line: line}
	t := strings.TrimSpace(text)
	i := strings.Index(t, ".entry")
	if i >= 0 {
		f.entry = true
		t = t[i+len(".entry"):]
	} else {
		i = strings.Index(t, ".func")
		if i < 0 {
			return nil, &parseError{line, "not a function header"}
		}
		t = strings.TrimSpace(t[i+len(".func"):])
		if strings.HasPrefix(t, "(") {
			j := strings.IndexByte(t, ')')
			if j < 0 {
				return nil, &parseError{line, "unterminated return list"}
			}
			rets, err := parseParamList(t[1:j], line)
			if err != nil {
				return nil, err
			}
			f.rets = rets
			t = t[j+1:]
		}
	}
	t = strings.TrimSpace(t)
	j := strings.IndexAny(t, "( \t\n")
	if j < 0 {
		f.name = t
		return f, nil
	}
	f.name = t[:j]
	t = strings.TrimSpace(t[j:])
	if strings.HasPrefix(t, "(") {
		k := strings.IndexByte(t, ')')
		if k < 0 {
			return nil, &parseError{line, "unterminated parameter list"}
		}
		params, err := parseParamList(t[1:k], line)
		if err != nil {
			return nil, err
		}
		f.params = params
		t = t[k+1:]
	}
	// Performance directives.
	fields := strings.Fields(strings.ReplaceAll(t, ",", " "))
	for k := 0; k < len(fields); k++ {
		var dst *[3]int
		switch fields[k] {
		case ".maxntid":
			dst = &f.maxntid
		case ".reqntid":
			dst = &f.reqntid
		default:
			continue
		}
		for d := 0; d < 3 && k+1 < len(fields); d++ {
			n, err := strconv.Atoi(fields[k+1])
			if err != nil {
				break
			}
			dst[d] = n
			k++
		}
	}
	return f, nil
}

func parseParamList(s string, line int) ([]*varDecl, error) {
	var out []*varDecl
	for _, p := range strings.Split(s, ",") {
		if strings.TrimSpace(p) == "" {
			continue
		}
		v, err := parseVarDecl(p, line)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// parseBody reads statements up to the '}' that closes the body.
func parseBody(s *scanner) ([]stmt, error) {
	var out []stmt
	depth := 1
	for {
		if s.eof() {
			return nil, &parseError{s.line, "unterminated function body"}
		}
		switch s.peek() {
		case '{':
			out = append(out, stmt{kind: stOpen, line: s.line})
			s.pos++
			depth++
			continue
		case '}':
			s.pos++
			depth--
			if depth == 0 {
				return out, nil
			}
			out = append(out, stmt{kind: stClose, line: s.line})
			continue
		}
		// A label "name:" or a statement up to ';'.
		start, line := s.pos, s.line
		text, _, err := s.until(';')
		if err != nil {
			return nil, err
		}
		if k := labelEnd(text); k > 0 {
			out = append(out, stmt{kind: stLabel, line: line, label: text[:k]})
			s.pos = start + k + 1
			s.line = line
			continue
		}
		st, err := parseStatement(strings.TrimSpace(text), line)
		if err != nil {
			return nil, err
		}
		if st != nil {
			out = append(out, *st)
		}
	}
}

// labelEnd returns the index of the ':' ending a leading label, or -1.
func labelEnd(text string) int {
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == ':' {
			if i == 0 {
				return -1
			}
			return i
		}
		if !(c == '$' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return -1
		}
	}
	return -1
}

func parseStatement(text string, line int) (*stmt, error) {
	if text == "" {
		return nil, nil
	}
	if strings.HasPrefix(text, ".") {
		f := strings.Fields(text)
		switch f[0] {
		case ".reg":
			if len(f) < 3 {
				return nil, &parseError{line, "bad .reg declaration"}
			}
			rest := strings.TrimSpace(text[strings.Index(text, f[1])+len(f[1]):])
			var names []string
			for _, n := range strings.Split(rest, ",") {
				if n = strings.TrimSpace(n); n != "" {
					names = append(names, n)
				}
			}
			return &stmt{kind: stReg, line: line, regType: f[1], regNames: names}, nil
		case ".pragma", ".loc", ".file":
			return nil, nil
		case ".local", ".shared", ".param", ".global", ".const":
			v, err := parseVarDecl(text, line)
			if err != nil {
				return nil, err
			}
			return &stmt{kind: stVar, line: line, decl: v}, nil
		}
		return nil, &parseError{line, fmt.Sprintf("unknown directive %q", f[0])}
	}
	st := &stmt{kind: stInstr, line: line, text: strings.Join(strings.Fields(text), " ")}
	if text[0] == '@' {
		i := strings.IndexAny(text, " \t\n")
		if i < 0 {
			return nil, &parseError{line, "guard without instruction"}
		}
		g := text[1:i]
		if strings.HasPrefix(g, "!") {
			st.guardNeg = true
			g = g[1:]
		}
		st.guard = g
		text = strings.TrimSpace(text[i:])
	}
	i := strings.IndexAny(text, " \t\n")
	if i < 0 {
		st.opcode = text
		return st, nil
	}
	st.opcode = text[:i]
	st.operands = splitOperands(text[i:])
	return st, nil
}

// splitOperands splits at commas outside (), {} and [].
func splitOperands(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(', '{', '[':
			depth++
		case ')', '}', ']':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if t := strings.TrimSpace(s[start:]); t != "" {
		out = append(out, t)
	}
	return out
}

// typeSize is the byte size of a PTX fundamental type, 0 if unknown.
func typeSize(t string) int {
	switch t {
	case ".b8", ".u8", ".s8":
		return 1
	case ".b16", ".u16", ".s16", ".f16":
		return 2
	case ".b32", ".u32", ".s32", ".f32", ".tf32", ".f16x2":
		return 4
	case ".b64", ".u64", ".s64", ".f64":
		return 8
	case ".pred":
		return 1
	}
	return 0
}

// parseImmediate reads an integer or float literal as the bits of typ.
func parseImmediate(s, typ string) (uint64, error) {
	neg := false
	t := s
	if strings.HasPrefix(t, "-") {
		neg = true
		t = t[1:]
	}
	switch {
	case strings.HasPrefix(t, "0f") || strings.HasPrefix(t, "0F"):
		v, err := strconv.ParseUint(t[2:], 16, 32)
		if err != nil {
			return 0, err
		}
		if neg {
			v ^= 1 << 31
		}
		if typ == ".f64" {
			return f64bits(float64(f32frombits(uint32(v)))), nil
		}
		return v, nil
	case strings.HasPrefix(t, "0d") || strings.HasPrefix(t, "0D"):
		v, err := strconv.ParseUint(t[2:], 16, 64)
		if err != nil {
			return 0, err
		}
		if neg {
			v ^= 1 << 63
		}
		if typ == ".f32" {
			return uint64(f32bits(float32(f64frombits(v)))), nil
		}
		return v, nil
	}
	t = strings.TrimSuffix(strings.TrimSuffix(t, "U"), "u")
	var v uint64
	var err error
	switch {
	case strings.HasPrefix(t, "0x") || strings.HasPrefix(t, "0X"):
		v, err = strconv.ParseUint(t[2:], 16, 64)
	case strings.HasPrefix(t, "0b") || strings.HasPrefix(t, "0B"):
		v, err = strconv.ParseUint(t[2:], 2, 64)
	case len(t) > 1 && t[0] == '0' && strings.IndexFunc(t, func(r rune) bool { return r < '0' || r > '7' }) < 0:
		v, err = strconv.ParseUint(t[1:], 8, 64)
	default:
		if strings.ContainsAny(t, ".eE") && !strings.HasPrefix(t, "0x") {
			f, ferr := strconv.ParseFloat(t, 64)
			if ferr != nil {
				return 0, ferr
			}
			if neg {
				f = -f
			}
			if typ == ".f32" {
				return uint64(f32bits(float32(f))), nil
			}
			return f64bits(f), nil
		}
		v, err = strconv.ParseUint(t, 10, 64)
	}
	if err != nil {
		return 0, err
	}
	if neg {
		v = -v
	}
	if typ == ".f32" {
		return uint64(f32bits(float32(int64(v)))), nil
	}
	if typ == ".f64" {
		return f64bits(float64(int64(v))), nil
	}
	return v, nil
}
