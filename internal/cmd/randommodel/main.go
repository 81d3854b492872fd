// Command randommodel writes a random-weight int8 BagNet model file: a
// stand-in for the trained model while developing the page and in tests. Its
// predictions are meaningless but deterministic.
//
// Usage:
//
//	go run ./internal/cmd/randommodel -o FILE [-size 128] [-width 0.25] [-arch bagnet33] [-seed 0]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/bagnetweb/bagnet/internal/testmodel"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "randommodel:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("randommodel", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output model file (required)")
	size := fs.Int("size", 128, "model input size in pixels")
	width := fs.Float64("width", 0.25, "channel width multiplier")
	arch := fs.String("arch", "bagnet33", "bagnet9, bagnet17 or bagnet33")
	seed := fs.Uint64("seed", 0, "random seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("need -o FILE and no other arguments")
	}
	b, err := testmodel.Int8(testmodel.Options{Arch: *arch, Width: *width, InputSize: *size, Seed: *seed})
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s (%d bytes)\n", *out, len(b))
	return nil
}
