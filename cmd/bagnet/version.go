package main

import (
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/weights/shipped"
)

var versionCmd = &command{name: "version", opts: func() options { return versionOpts{} },
	summary: "print the program's module version and the embedded model's name, size and SHA-256"}

// versionOpts has no flags.
type versionOpts struct{}

func (versionOpts) define(*flag.FlagSet) {}

func (versionOpts) run(e *env, args []string) error {
	if len(args) != 0 {
		return usagef("takes no arguments, got %d", len(args))
	}
	return printVersion(e)
}

// moduleVersion is the version of the main module the binary was built
// from: a release tag for `go install ...@vX.Y.Z`, a pseudo-version for
// @latest on an untagged commit, "(devel)" for a build in a checkout (with
// the VCS revision when the build recorded it).
func moduleVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if rev != "" {
		v += " " + rev[:min(12, len(rev))] + modified
	}
	return v
}

func printVersion(e *env) error {
	fmt.Fprintf(e.stdout, "bagnet %s %s %s/%s\n", moduleVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	m, err := engine.Load(shipped.Model())
	if err != nil {
		return fileErr(defaultWeights, err)
	}
	fmt.Fprintf(e.stdout, "embedded model: %s (%s, %s width %g, %d classes, %d px %s)\n", m.Label(), m.DType, m.Config.Arch, m.Config.Width, len(m.Classes), m.InputSize, m.Resize)
	fmt.Fprintf(e.stdout, "  file %s, %d bytes, sha256 %s\n", shipped.Path, len(shipped.Model()), shipped.SHA256())
	return nil
}
