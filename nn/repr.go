package nn

import (
	"fmt"
	"reflect"
	"strings"
)

// PyTorch-style descriptions of modules: Repr for any module, and Base's
// String, which modules built on Base inherit.

// baser is implemented by every module that embeds Base (the method is
// promoted from *Base).
type baser interface{ base() *Base }

func (b *Base) base() *Base { return b }

// baseOf returns m's Base, or nil when m does not embed one.
func baseOf(m Module) *Base {
	if bm, ok := m.(baser); ok {
		return bm.base()
	}
	return nil
}

// nnPackage is this package's import path, which tells the built-in
// layers from modules defined elsewhere.
var nnPackage = reflect.TypeOf(Base{}).PkgPath()

// isBuiltin reports whether m is one of this package's layers, which all
// describe themselves with String.
func isBuiltin(m Module) bool {
	t := reflect.TypeOf(m)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.PkgPath() == nnPackage
}

// typeName is the name of m's Go type without its package: "MLP" for a
// *main.MLP.
func typeName(m Module) string {
	t := reflect.TypeOf(m)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() == "" {
		return "Module"
	}
	return t.Name()
}

// moduleName is the name PyTorch would print for m: a built-in layer's
// class name ("Linear", "ReLU", "Sequential"), otherwise the Go type's.
func moduleName(m Module) string {
	if isBuiltin(m) {
		if s, ok := m.(fmt.Stringer); ok {
			name, _, _ := strings.Cut(s.String(), "(")
			return name
		}
	}
	return typeName(m)
}

// Repr describes m the way PyTorch prints a module: the built-in layers
// as their constructor calls, and any other module as its type name and
// the tree of its registered sub-modules, each on its own line under its
// name:
//
//	MLP(
//	  (fc1): Linear(in_features=784, out_features=128, bias=True)
//	  (act): ReLU()
//	  (fc2): Linear(in_features=128, out_features=10, bias=True)
//	)
//
// A module of your own may define String as Repr(m); modules built on
// Base print this way through Base's String anyway (see there).
func Repr(m Module) string {
	b := baseOf(m)
	switch {
	case b == nil:
		if s, ok := m.(fmt.Stringer); ok {
			return s.String()
		}
		return typeName(m) + "()"
	case isBuiltin(m):
		return m.(fmt.Stringer).String()
	}
	b.self = m
	return b.tree(typeName(m))
}

// String describes the module and its sub-modules the way PyTorch prints
// them (see Repr), so that fmt.Println(model) of a model built on Base
// prints its tree rather than a Go struct. Base cannot see the type that
// embeds it until the module has been registered in a parent or passed to
// Repr or Summary; until then the top line names it "Module". Define
//
//	func (m *MLP) String() string { return nn.Repr(m) }
//
// to have it named "MLP" always.
func (b *Base) String() string {
	name := "Module"
	if b.self != nil {
		name = typeName(b.self)
	}
	return b.tree(name)
}

// tree prints name and, indented, each registered sub-module under its
// name.
func (b *Base) tree(name string) string {
	if len(b.children) == 0 {
		return name + "()"
	}
	var sb strings.Builder
	sb.WriteString(name + "(\n")
	for _, c := range b.children {
		var inner string
		if s, ok := c.m.(fmt.Stringer); ok {
			inner = s.String()
		} else {
			inner = Repr(c.m)
		}
		fmt.Fprintf(&sb, "  (%s): %s\n", c.name, strings.ReplaceAll(inner, "\n", "\n  "))
	}
	sb.WriteString(")")
	return sb.String()
}
