package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/model/kernel/tensorkernel"
	"github.com/bagnetweb/bagnet/weights/shipped"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// A command is one subcommand of bagnet.
type command struct {
	name    string
	summary string
	usage   string // the argument synopsis after "bagnet NAME"
	flags   func(*flag.FlagSet) func(*env, []string) error
}

var commands []*command

func init() {
	commands = []*command{convertCmd, classifyCmd, heatmapCmd, evalCmd, patchesCmd, mergeCmd, teachCmd, versionCmd}
}

// env is what a command runs with.
type env struct {
	stdout, stderr io.Writer
	cmd            *command
	fs             *flag.FlagSet
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// fileError is a failure concerning one file: "bagnet: FILE: PROBLEM".
type fileError struct {
	file string
	err  error
}

func (e *fileError) Error() string { return e.file + ": " + problem(e.file, e.err) }

func (e *fileError) Unwrap() error { return e.err }

func fileErr(file string, err error) error {
	var fe *fileError
	if errors.As(err, &fe) {
		return err
	}
	return &fileError{file, err}
}

func fileErrf(file, format string, a ...any) error {
	return &fileError{file, fmt.Errorf(format, a...)}
}

// errReported is returned by a command that has already printed its errors
// (one line per failed input) and only needs exit status 1.
var errReported = errors.New("errors reported")

// problem turns err into a one-line description without the file name and
// the package prefixes that the file name already makes redundant.
func problem(file string, err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) && (pe.Path == file || filepath.Clean(pe.Path) == filepath.Clean(file)) {
		return oneLine(pe.Err.Error())
	}
	msg := err.Error()
	if file != "" {
		msg = strings.ReplaceAll(msg, file+": ", "")
	}
	for {
		trimmed := msg
		for _, p := range []string{"weights: ", "pth: ", "preprocess: ", "engine: ", "model: ", "heatmap: "} {
			trimmed = strings.TrimPrefix(trimmed, p)
		}
		if trimmed == msg {
			break
		}
		msg = trimmed
	}
	return oneLine(msg)
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "\r", "")
	return strings.ReplaceAll(s, "\n", "; ")
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
		fmt.Fprintln(stderr, "bagnet: missing command (convert, classify, heatmap, eval, patches, merge or version); run 'bagnet help'")
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
	body := c.flags(fs)
	pos, err := parseFlags(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		c.help(stdout)
		return 0
	}
	e := &env{stdout: stdout, stderr: stderr, cmd: c, fs: fs}
	if err == nil {
		err = body(e, pos)
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
	c.flags(fs)
	fmt.Fprintf(w, "usage: bagnet %s %s\n\n%s\n\nFlags:\n", c.name, c.usage, c.summary)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// defaultWeights names the model embedded in the binary (package
// weights/shipped) in messages.
const defaultWeights = "the embedded model (" + shipped.Path + ")"

// modulePath identifies the repository root's go.mod.
const modulePath = "github.com/bagnetweb/bagnet"

// repoRoot finds the repository root at or above dir.
func repoRoot(dir string) (string, bool) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			first, _, _ := strings.Cut(string(b), "\n")
			if strings.TrimSpace(first) == "module "+modulePath {
				return dir, true
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// findShipped locates a file shipped in the repository (rel is relative to
// the repository root): under the root above the working directory cwd,
// then next to the executable exe (exe/../rel and exe/rel, for a binary in
// build/ or in the root). It returns the candidates tried when none exists.
func findShipped(rel, cwd, exe string) (string, []string) {
	var tried []string
	if root, ok := repoRoot(cwd); ok {
		tried = append(tried, filepath.Join(root, rel))
	}
	if exe != "" {
		dir := filepath.Dir(exe)
		tried = append(tried, filepath.Join(dir, "..", rel), filepath.Join(dir, rel))
	}
	for _, p := range tried {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", tried
}

func repoFile(rel string) (string, []string) {
	cwd, _ := os.Getwd()
	exe, err := os.Executable()
	if err == nil {
		if r, err := filepath.EvalSymlinks(exe); err == nil {
			exe = r
		}
	}
	return findShipped(rel, cwd, exe)
}

// weightsFlag adds the -weights flag.
func weightsFlag(fs *flag.FlagSet) *string {
	return fs.String("weights", "", "model file (.safetensors written by 'bagnet convert' or the training script); default: "+defaultWeights)
}

// loadEngine loads the model file named by -weights, or the shipped model.
func loadEngine(path string) (*engine.Engine, error) {
	e, _, err := loadEngineAt(path)
	return e, err
}

// loadEngineAt is loadEngine that also returns the path it loaded. Float
// models get the native BLAS kernel.
func loadEngineAt(path string) (*engine.Engine, string, error) {
	if path == "" {
		e, err := engine.Load(shipped.Model())
		if err != nil { // only a broken build gets here: the shipped-model tests load it
			return nil, "", fileErr(defaultWeights, err)
		}
		return e, defaultWeights, nil
	}
	if st, err := os.Stat(path); err != nil {
		return nil, "", fileErr(path, err)
	} else if st.IsDir() {
		return nil, "", fileErrf(path, "is a directory, not a model file")
	}
	e, err := engine.LoadFile(path)
	if err != nil {
		if looksLikePyTorch(path) {
			return nil, "", fileErrf(path, "a PyTorch checkpoint, not a model file: convert it first with 'bagnet convert'")
		}
		return nil, "", fileErr(path, err)
	}
	if e.Float != nil {
		e.Float.Kernels = tensorkernel.Kernels{}
	}
	return e, path, nil
}

// resolveClass is engine.ClassIndex whose error for a class the model does
// not have says which classes it does have: all of them when there are few,
// else the names that contain s.
func resolveClass(eng *engine.Engine, s, wpath string) (int, error) {
	c, err := eng.ClassIndex(s)
	if err == nil {
		return c, nil
	}
	if _, nerr := strconv.Atoi(s); nerr == nil { // an index out of range: the error says the range
		return 0, fileErr(wpath, err)
	}
	var names []string
	if len(eng.Classes) <= maxListedClasses {
		for _, cl := range eng.Classes {
			names = append(names, cl.Name)
		}
		return 0, fileErrf(wpath, "unknown class %q: this model knows only these %d classes: %s", s, len(eng.Classes), strings.Join(names, ", "))
	}
	for _, cl := range eng.Classes {
		if strings.Contains(strings.ToLower(cl.Name), strings.ToLower(s)) {
			names = append(names, cl.Name)
		}
	}
	if len(names) == 0 {
		return 0, fileErrf(wpath, "unknown class %q: none of the model's %d class names contains it (give an index, a WordNet id or a name)", s, len(eng.Classes))
	}
	return 0, fileErrf(wpath, "unknown class %q: of the model's %d classes, these names contain it: %s", s, len(eng.Classes), listNames(names, 12))
}

// maxListedClasses is the most classes an unknown-class error lists in full.
const maxListedClasses = 30

// looksLikePyTorch reports whether path starts like a torch.save file (a
// zip archive or a legacy pickle).
func looksLikePyTorch(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [4]byte
	n, _ := io.ReadFull(f, b[:])
	return n >= 2 && (string(b[:2]) == "PK" || b[0] == 0x80)
}

// imageExts are the file name extensions the directory walkers treat as
// images (case-insensitive).
var imageExts = map[string]bool{
	".jpg": true, ".jpeg": true, ".png": true, ".gif": true, ".webp": true,
	".bmp": true, ".tif": true, ".tiff": true,
}

// findImages lists the image files under dir, recursively, sorted. Hidden
// files and directories (names starting with '.') are skipped. dir may be a
// symbolic link to a directory; links below it are not followed.
func findImages(dir string) ([]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fileErr(dir, err)
	}
	if !st.IsDir() {
		return nil, fileErrf(dir, "not a directory")
	}
	root := filepath.Clean(dir) + string(filepath.Separator) // walks the target of a link
	var out []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fileErr(p, err)
		}
		if p != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && imageExts[strings.ToLower(filepath.Ext(p))] {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(out)
	return out, nil
}

// spread picks n of the items evenly spaced (deterministic); all of them
// when there are at most n.
func spread[T any](items []T, n int) []T {
	if n <= 0 || len(items) <= n {
		return items
	}
	out := make([]T, n)
	for i := range out {
		out[i] = items[i*len(items)/n]
	}
	return out
}

// writeFile writes data to path through a temporary file in the same
// directory, so a failed write never leaves a half-written file.
func writeFile(path string, data []byte) error {
	if err := checkOut(path); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fileErr(path, unwrapPath(err))
	}
	name := tmp.Name()
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(name, 0o644)
	}
	if err == nil {
		err = os.Rename(name, path)
	}
	if err != nil {
		os.Remove(name)
		return fileErr(path, unwrapPath(err))
	}
	return nil
}

// checkOut fails when the output path names a directory (which a rename
// would otherwise report as "file exists").
func checkOut(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fileErrf(path, "is a directory (want a file name)")
	}
	return nil
}

// unwrapPath drops the temporary file name from an *fs.PathError.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
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
