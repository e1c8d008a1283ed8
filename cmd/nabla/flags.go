package main

import (
	"flag"
	"strings"

	"github.com/nabla-go/nabla/device"
)

// The values the choice flags accept, in the order the messages list them.
var (
	modelNames     = []string{"mlp", "cnn"}
	optimizerNames = []string{"sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw"}
	scheduleNames  = []string{"cosine", "none"}
	activationList = []string{"sigmoid", "relu", "both"}
)

// oneOf lists choices as "a, b or c".
func oneOf(choices []string) string {
	switch len(choices) {
	case 0:
		return ""
	case 1:
		return choices[0]
	}
	return strings.Join(choices[:len(choices)-1], ", ") + " or " + choices[len(choices)-1]
}

// checkChoice reports a usage error unless value is one of choices.
func checkChoice(flagName, what, value string, choices []string) error {
	for _, c := range choices {
		if value == c {
			return nil
		}
	}
	return usagef("-%s %q: unknown %s (want %s)", flagName, value, what, oneOf(choices))
}

// parseDevice reads a -device value, naming the flag, the value and the
// accepted ones when it is wrong.
func parseDevice(value string) (device.Device, error) {
	dev, err := device.Parse(value)
	if err == nil {
		return dev, nil
	}
	if strings.Contains(err.Error(), "want cpu, cuda, cuda:N or auto") {
		return device.Device{}, usagef("-device %q: %v", value, err)
	}
	var have []string
	for _, d := range device.List() {
		have = append(have, d.String())
	}
	return device.Device{}, usagef("-device %q: %v (want auto, cpu, cuda or cuda:N; this binary can use %s)", value, err, oneOf(have))
}

// flagsSet returns the names of the flags given on the command line.
func flagsSet(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// positiveInt reports a usage error unless v >= 1.
func positiveInt(flagName string, v int, what string) error {
	if v < 1 {
		return usagef("-%s %d: want a positive %s (1 or more)", flagName, v, what)
	}
	return nil
}
