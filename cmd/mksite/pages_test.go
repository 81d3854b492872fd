package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

const pagesWorkflow = "../../.github/workflows/pages.yml"

func lint(t *testing.T, path string) []*actionlint.Error {
	t.Helper()
	var out bytes.Buffer
	l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{Oneline: true})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.LintFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return errs
}

// The Pages workflow lints clean and builds the site without ../shared.
func TestPagesWorkflow(t *testing.T) {
	for _, e := range lint(t, pagesWorkflow) {
		t.Errorf("actionlint: %s", e.Error())
	}
	// The linter finds mistakes: a misspelt key and an unknown expression.
	bad := filepath.Join(t.TempDir(), "bad.yml")
	os.WriteFile(bad, []byte("on: push\njobs:\n  b:\n    runs-onn: ubuntu-latest\n    steps:\n      - run: echo ${{ steps.nope.outputs.x }}\n"), 0o644)
	if errs := lint(t, bad); len(errs) < 2 {
		t.Errorf("a broken workflow gives %d lint errors, want at least 2", len(errs))
	}
	b, err := os.ReadFile(pagesWorkflow)
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, line := range strings.Split(string(b), "\n") {
		if s := strings.TrimSpace(line); !strings.HasPrefix(s, "#") {
			steps = append(steps, s)
		}
	}
	wf := strings.Join(steps, "\n")
	if strings.Contains(wf, "shared") {
		t.Error("the workflow refers to ../shared, which GitHub does not have")
	}
	for _, want := range []string{"go run ./cmd/samples", "make site SAMPLES=build/samples", "path: dist"} {
		if !strings.Contains(wf, want) {
			t.Errorf("the workflow lacks %q", want)
		}
	}
}
