package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// newFlags is a command's flag set: it writes to out, and -h prints usage
// (the command's synopsis and what it does) followed by the flags.
func newFlags(name string, out io.Writer, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses the args of a command that takes flags only. helped
// is true after -h, whose usage is printed and which is no error; a bad
// flag or any argument is a usage error quoting synopsis.
func parseFlags(fs *flag.FlagSet, args []string, synopsis string) (helped bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return false, usageError("%s: %v", synopsis, err)
	}
	if fs.NArg() > 0 {
		return false, usageError("%s: unexpected argument %q", synopsis, fs.Arg(0))
	}
	return false, nil
}
