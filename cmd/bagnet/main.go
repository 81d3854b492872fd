package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// A command is one subcommand of bagnet.
type command struct {
	name    string
	summary string
	usage   string         // the argument synopsis after "bagnet NAME"
	opts    func() options // a command's options, fresh for each run
}

// options are a command's flags and what it does with them.
type options interface {
	define(fs *flag.FlagSet)         // adds the flags, bound to the options
	run(e *env, args []string) error // runs with the positional arguments
}

var commands []*command

func init() {
	commands = []*command{convertCmd, classifyCmd, heatmapCmd, evalCmd, patchesCmd, mergeCmd, teachCmd, priorCmd, versionCmd}
}

// env is what a command runs with.
type env struct {
	stdout, stderr io.Writer
	cmd            *command
	fs             *flag.FlagSet
}

// run is the whole program: it parses args, runs a command and returns the
// exit status (0 success, 1 failure, 2 usage error). Every error is one
// line on stderr; a panic is reported the same way.
func run(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "bagnet: internal error: %s\n", oneLine(fmt.Sprint(r)))
			code = 1
		}
	}()
	if len(args) == 0 {
		names := make([]string, len(commands))
		for i, c := range commands {
			names[i] = c.name
		}
		fmt.Fprintf(stderr, "bagnet: missing command (%s or %s); run 'bagnet help'\n",
			strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
		return 2
	}
	name := args[0]
	if name == "-version" || name == "--version" {
		name, args = "version", append([]string{"version"}, args[1:]...)
	}
	if name == "help" || name == "-h" || name == "-help" || name == "--help" {
		if len(args) > 1 {
			c := lookup(args[1])
			if c == nil {
				fmt.Fprintf(stderr, "bagnet help: unknown command %q; run 'bagnet help'\n", args[1])
				return 2
			}
			c.help(stdout)
			return 0
		}
		help(stdout)
		return 0
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(stderr, "bagnet: unknown command %q; run 'bagnet help'\n", name)
		return 2
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := c.opts()
	o.define(fs)
	pos, err := parseFlags(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		c.help(stdout)
		return 0
	}
	e := &env{stdout: stdout, stderr: stderr, cmd: c, fs: fs}
	if err == nil {
		err = o.run(e, pos)
	}
	return report(stderr, c, err)
}

// report prints err and returns the exit status.
func report(stderr io.Writer, c *command, err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errReported):
		return 1
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "bagnet %s: %s; run 'bagnet help %s'\n", c.name, oneLine(ue.msg), c.name)
		return 2
	default:
		fmt.Fprintf(stderr, "bagnet: %s\n", oneLine(err.Error()))
		return 1
	}
}

// parseFlags parses flags that may come before, between or after the
// positional arguments ("--" ends the flags).
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" { // fs.Parse stops after "--" and leaves nothing to drop
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func help(w io.Writer) {
	fmt.Fprint(w, "bagnet classifies images with BagNet models and shows the patch evidence behind each decision.\n\nUsage:\n\n\tbagnet COMMAND [flags] ARGS\n\nCommands:\n\n")
	for _, c := range commands {
		fmt.Fprintf(w, "\t%-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'bagnet help COMMAND' for a command's flags. Flags may come before or after the arguments.\n")
	fmt.Fprintf(w, "Without -weights, commands use %s.\n", defaultWeights)
}

func (c *command) help(w io.Writer) {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.opts().define(fs)
	fmt.Fprintf(w, "usage: bagnet %s %s\n\n%s\n\nFlags:\n", c.name, c.usage, c.summary)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// output prints a command's report: as one JSON object with -json, else as
// text; then exit status 1 if some inputs failed.
func output(e *env, asJSON bool, rep any, text func(), failed int) error {
	if asJSON {
		b, err := json.Marshal(rep)
		if err != nil {
			return fmt.Errorf("encoding the report: %v", err)
		}
		fmt.Fprintf(e.stdout, "%s\n", b)
	} else {
		text()
	}
	if failed > 0 {
		return errReported
	}
	return nil
}
