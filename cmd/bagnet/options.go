package main

import (
	"flag"
	"runtime"
)

// modelOpts are the options every command that runs the model has: the
// model file (-weights) and the goroutines that share the work (-workers).
type modelOpts struct {
	weights string
	workers int
}

// modelFlags adds -weights and -workers; workers says what the goroutines
// share (bandWorkers for the commands that run one image at a time).
func (m *modelOpts) modelFlags(fs *flag.FlagSet, workers string) {
	fs.StringVar(&m.weights, "weights", "", "model file (.safetensors written by 'bagnet convert' or the training script); default: "+defaultWeights)
	workersFlag(fs, &m.workers, workers)
}

// bandWorkers is -workers for the commands that run one image at a time:
// its evidence map is split into bands of rows computed on that many
// goroutines (engine.UseGoroutines), bit-identical to one.
const bandWorkers = "goroutines sharing each image's pass (bands of the evidence map; the result is the same for any number)"

// workersFlag adds -workers, by default one goroutine per CPU.
func workersFlag(fs *flag.FlagSet, n *int, usage string) {
	fs.IntVar(n, "workers", runtime.NumCPU(), usage)
}

// checkWorkers checks a -workers value.
func checkWorkers(n int) error {
	if n < 1 || n > 256 {
		return usagef("-workers %d out of range [1, 256]", n)
	}
	return nil
}

// oneArg is the one positional argument of a command that takes one (what
// names it in the usage error).
func oneArg(args []string, what string) (string, error) {
	if len(args) != 1 {
		return "", usagef("want exactly one %s, got %d arguments", what, len(args))
	}
	return args[0], nil
}
