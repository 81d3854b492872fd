package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bagnetweb/bagnet/internal/testmodel"
	"github.com/bagnetweb/bagnet/teach"
	"github.com/bagnetweb/bagnet/weights"
)

// TestPriorCmd gives a model a prior from a folder, checks it against
// teach.Prior of the same images' features, then teaches with and without
// it: the prior is used by default, kept in the taught file, and
// -no-prior teaches as before it existed.
func TestPriorCmd(t *testing.T) {
	dir := teachTree(t)
	if err := os.Remove(filepath.Join(dir, "beta", "broken.jpg")); err != nil {
		t.Fatal(err)
	}
	base := int8Model(t, testmodel.Options{})
	out := t.TempDir()
	withPrior := filepath.Join(out, "prior.safetensors")
	stdout, stderr, code := runCmd(t, "prior", "-weights", base, "-o", withPrior, dir)
	if code != 0 || !strings.Contains(stdout, "over 12 images") {
		t.Fatalf("prior: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	m, err := weights.LoadFile(withPrior)
	if err != nil {
		t.Fatal(err)
	}
	// The same prior from the features teach extracts.
	eng, _, err := loadEngineAt(base)
	if err != nil {
		t.Fatal(err)
	}
	classes, err := teachClasses(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{stdout: new(bytes.Buffer), stderr: new(bytes.Buffer)}
	ex, _, _, err := classExamples(e, eng, base, dir, classes, 1)
	if err != nil {
		t.Fatal(err)
	}
	want, err := teach.Prior(ex, len(classes))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Prior) != len(want) || !bytes.Equal(i8b(m.Prior), i8b(want)) {
		t.Fatalf("the file's prior differs from teach.Prior of the folder")
	}
	// Everything but the prior is the base model's.
	bm, err := weights.LoadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	m.Prior = nil
	b1, _ := weights.Encode(m)
	b2, _ := weights.Encode(bm)
	if !bytes.Equal(b1, b2) {
		t.Fatal("the model file with a prior changed more than the prior")
	}

	teachTo := func(w string, extra ...string) []byte {
		o := filepath.Join(out, "taught.safetensors")
		args := append([]string{"teach", "-folds", "0", "-name", "T", "-weights", w, "-o", o}, extra...)
		if _, stderr, code := runCmd(t, append(args, dir)...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		b, err := os.ReadFile(o)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	plain, withP, noP := teachTo(base), teachTo(withPrior), teachTo(withPrior, "-no-prior")
	if bytes.Equal(plain, withP) {
		t.Fatal("teaching with a prior gave the same file as without")
	}
	tm, err := weights.Load(withP)
	if err != nil {
		t.Fatal(err)
	}
	if tm.Prior == nil || !strings.Contains(tm.Info["teach"], "feature correlation prior") {
		t.Fatalf("the taught file lacks the prior or says nothing of it: prior %d entries, info %q", len(tm.Prior), tm.Info["teach"])
	}
	// -no-prior: the head and settings of the model without one (the file
	// still carries the backbone's prior).
	nm, err := weights.Load(noP)
	if err != nil {
		t.Fatal(err)
	}
	nm.Prior = nil
	if b, _ := weights.Encode(nm); !bytes.Equal(b, plain) {
		t.Fatal("-no-prior does not teach as for a model without a prior")
	}

	// Bad input.
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"prior", "-weights", base, dir}, 2, "-o: want a file name"},
		{[]string{"prior", "-weights", base, "-o", withPrior}, 2, "want exactly one directory"},
		{[]string{"prior", "-weights", base, "-o", withPrior, filepath.Join(dir, "alpha", "img0.png")}, 1, "not a directory"},
	} {
		_, stderr, code := runCmd(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	broken := teachTree(t) // holds a file that is not an image
	if _, stderr, code := runCmd(t, "prior", "-weights", base, "-o", filepath.Join(out, "x.safetensors"), broken); code != 1 || !strings.Contains(stderr, "broken.jpg") || !strings.Contains(stderr, "every image or none") {
		t.Errorf("a folder with a broken image: exit %d, stderr %q", code, stderr)
	}
}

func i8b(v []int8) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}
