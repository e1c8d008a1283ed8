package iosize

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRemaining(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(path, make([]byte, 100), 0o644))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	_, err = f.Seek(30, io.SeekStart)
	require.NoError(t, err)
	cases := []struct {
		name string
		r    io.Reader
		want int64
	}{
		{"bytes.Reader", bytes.NewReader(make([]byte, 7)), 7},
		{"strings.Reader", strings.NewReader("abc"), 3},
		{"regular file past its start", f, 70},
		{"a reader that does not tell", io.MultiReader(strings.NewReader("abc")), -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { require.Equal(t, c.want, Remaining(c.r)) })
	}
}
