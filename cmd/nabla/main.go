// Command nabla trains, evaluates and benchmarks neural networks with the
// nabla tensor library on the CPU or a CUDA GPU.
//
//	nabla devices                 list the devices this binary can use
//	nabla train [flags]           train an MLP or CNN on Fashion-MNIST
//	nabla eval [flags]            evaluate a saved model on the test set
//	nabla bench [flags]           benchmark nabla, side by side with PyTorch
//	nabla init-stats [flags]      the weight-initialisation experiment
//
// Run "nabla <command> -help" for the flags of a command.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one subcommand: its one-line summary and its entry point,
// which parses its own flags from args.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{
	"devices":    {"list the devices this binary can use", runDevices},
	"train":      {"train an MLP or CNN on Fashion-MNIST, with checkpoints and curves", runTrain},
	"eval":       {"evaluate a trained model on the test set: accuracy, per class, confusion matrix", runEval},
	"bench":      {"benchmark nabla on a device, side by side with PyTorch", runBench},
	"init-stats": {"the weight-initialisation experiment: activation histograms per layer", runInitStats},
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line and returns the process exit code: 0 on
// success, 1 on failure, 2 on a usage error.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "nabla: unknown command %q (want one of %s)\n", args[0], strings.Join(commandNames(), ", "))
		return 2
	}
	err := cmd.run(args[1:], stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errInterrupted):
		// The command has already said where it stopped and how to
		// resume; 130 is how shells report a process ended by Ctrl-C.
		return 130
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "nabla %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(stderr, "nabla %s: %v\n", args[0], err)
		return 1
	}
}

// usageError marks errors in the command line itself (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "nabla: neural networks in Go on the CPU or a CUDA GPU")
	fmt.Fprintln(w, "\nusage: nabla <command> [flags]\n\ncommands:")
	for _, n := range commandNames() {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun \"nabla <command> -help\" for the flags of a command.")
}

// errInterrupted is returned by a command that stopped early on Ctrl-C
// after saving its state; run exits with status 130 without a message.
var errInterrupted = errors.New("interrupted")

// hiddenPrefix starts the usage string of a flag that -help does not list
// (flags for tests and experiments).
const hiddenPrefix = "(hidden) "

// newFlagSet returns a flag set that reports errors instead of exiting and
// prints its usage to stderr, leaving out the flags whose usage starts
// with hiddenPrefix.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: nabla %s\n\n", synopsis)
		visible := flag.NewFlagSet(name, flag.ContinueOnError)
		visible.SetOutput(stderr)
		fs.VisitAll(func(f *flag.Flag) {
			if !strings.HasPrefix(f.Usage, hiddenPrefix) {
				visible.Var(f.Value, f.Name, f.Usage)
				visible.Lookup(f.Name).DefValue = f.DefValue
			}
		})
		visible.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, turning flag errors into usage errors and
// rejecting stray positional arguments. An unknown or malformed flag gives
// one line, the flag package's, and a pointer to -help; -help prints the
// usage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	usage, output := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(output)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage()
			return err
		}
		return usagef("%v\nrun \"%s %s -help\" for the flags", err, self(), fs.Name())
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}
