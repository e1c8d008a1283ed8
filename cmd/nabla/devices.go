package main

import (
	"fmt"
	"io"

	"github.com/nabla-go/nabla/device"
)

func runDevices(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("devices", "devices", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	for _, d := range device.List() {
		info, err := device.Describe(d)
		if err != nil {
			fmt.Fprintf(stdout, "%-8s unavailable: %v\n", d, err)
			continue
		}
		fmt.Fprintln(stdout, info)
	}
	if _, err := device.Get(device.CUDA(0)); err != nil {
		fmt.Fprintf(stdout, "(no CUDA device: %v)\n", err)
	}
	return nil
}
