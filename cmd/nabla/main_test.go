package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCommandDispatch(t *testing.T) {
	cases := []struct {
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{args: nil, code: 2, wantStderr: "usage: nabla <command>"},
		{args: []string{"help"}, code: 0, wantStderr: "commands:"},
		{args: []string{"frobnicate"}, code: 2, wantStderr: `unknown command "frobnicate" (want one of`},
		{args: []string{"devices"}, code: 0, wantStdout: "cpu"},
		{args: []string{"help"}, code: 0, wantStderr: "train "},
		{args: []string{"help"}, code: 0, wantStderr: "init-stats "},
		{args: []string{"devices", "extra"}, code: 2, wantStderr: `unexpected argument "extra"`},
		{args: []string{"devices", "-help"}, code: 0, wantStderr: "usage: nabla devices"},
		{args: []string{"bench", "-device", "tpu"}, code: 2, wantStderr: `-device "tpu": device: unknown device "tpu" (want cpu, cuda, cuda:N or auto)`},
		{args: []string{"bench", "-nope"}, code: 2, wantStderr: "flag provided but not defined: -nope"},
	}
	for _, tc := range cases {
		t.Run(fmtArgs(tc.args), func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			require.Equal(t, tc.code, code, "stderr: %s", stderr)
			require.Contains(t, stdout, tc.wantStdout)
			require.Contains(t, stderr, tc.wantStderr)
		})
	}
}

func TestBenchQuickWithoutTorch(t *testing.T) {
	code, stdout, stderr := runCLI("bench", "-quick", "-torch=false", "-mintime", "1ms")
	require.Equal(t, 0, code, stderr)
	for _, name := range []string{"matmul_128", "add_1M", "exp_1M", "sum_1M", "softmax_256x1024"} {
		require.Contains(t, stdout, name)
	}
	require.Contains(t, stdout, "MLP training epoch (784-256-128-10, Adam 1e-3, batch 64) on 2048 images of the embedded Fashion-MNIST test split")
	require.Regexp(t, `nabla +\d+\.\d+ s/epoch`, stdout)
}

func fmtArgs(args []string) string {
	if len(args) == 0 {
		return "no args"
	}
	s := args[0]
	for _, a := range args[1:] {
		s += " " + a
	}
	return s
}
