package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bagnetweb/bagnet/internal/testmodel"
)

// shardTree is a data set of 5 class folders with 3-4 synthetic images
// each, one of them unreadable, and a folder the model has no class for.
func shardTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for i, c := range testmodel.ImagenetteClasses[:5] {
		for k := range 3 + i%2 {
			writePNG(t, mkdir(t, dir, c.ID), fmt.Sprintf("img%d.png", k), synthetic(40+9*k, 70-6*k, 4*i+k))
		}
	}
	mustWrite(t, filepath.Join(dir, testmodel.ImagenetteClasses[2].ID, "broken.png"), "not a PNG")
	writePNG(t, mkdir(t, dir, "n99999999"), "x.png", synthetic(50, 50, 1))
	return dir
}

// runShards runs args with -shard i/n for every i, writes each part to a
// file and returns their paths.
func runShards(t *testing.T, n int, args ...string) []string {
	t.Helper()
	dir := t.TempDir()
	var parts []string
	for i := range n {
		out, errOut, code := runCmd(t, append(args, "-shard", fmt.Sprintf("%d/%d", i, n))...)
		if code != 0 {
			t.Fatalf("%v -shard %d/%d: exit %d: %s", args, i, n, code, errOut)
		}
		if strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, `{"format":"bagnet-part/1",`) {
			t.Fatalf("shard %d/%d printed %q", i, n, out)
		}
		p := filepath.Join(dir, fmt.Sprintf("part%d.json", i))
		mustWrite(t, p, out)
		parts = append(parts, p)
	}
	return parts
}

// Sharded and merged, eval prints exactly what one run prints (JSON and
// text, stdout, the error lines and the exit status), whatever the order of
// the parts and however they are spread over files.
func TestEvalShardsMerge(t *testing.T) {
	data := shardTree(t)
	w := int8Model(t, testmodel.Options{Seed: 5, InputSize: 48})
	for _, jsonFlag := range [][]string{{"-json"}, nil} {
		wantOut, wantErr, wantCode := runCmd(t, append(append([]string{"eval", "-weights", w}, jsonFlag...), data)...)
		if wantCode != 1 || !strings.Contains(wantErr, "broken.png") || !strings.Contains(wantErr, "n99999999") {
			t.Fatalf("unsharded: exit %d, stderr %q", wantCode, wantErr)
		}
		_, errLines, _ := strings.Cut(wantErr, "\n") // merge prints the error lines, not the shards' warnings
		for _, n := range []int{1, 3, 20} {
			parts := runShards(t, n, "eval", "-weights", w, data)
			// reversed order, and the last two parts in one file
			var args []string
			for i := len(parts) - 1; i >= 0; i-- {
				args = append(args, parts[i])
			}
			if n >= 3 {
				a, _ := os.ReadFile(parts[0])
				b, _ := os.ReadFile(parts[1])
				both := filepath.Join(t.TempDir(), "both.json")
				mustWrite(t, both, string(a)+string(b))
				args = append(args[:len(args)-2], both)
			}
			out, errOut, code := runCmd(t, append(append([]string{"merge"}, jsonFlag...), args...)...)
			if out != wantOut || code != wantCode || errOut != errLines {
				t.Errorf("%d shards%v: exit %d, stderr %q, stdout:\n%s\nwant exit %d, stderr %q, stdout:\n%s", n, jsonFlag, code, errOut, out, wantCode, errLines, wantOut)
			}
		}
	}
}

// Sharded and merged, patches prints the same JSON and draws the same PNG,
// byte for byte, as one run; and the same text with the default PNG name.
func TestPatchesShardsMerge(t *testing.T) {
	data := shardTree(t)
	w := int8Model(t, testmodel.Options{Seed: 6, InputSize: 48})
	tmp := t.TempDir()
	args := []string{"patches", "-weights", w, "-class", "golf ball", "-n", "4", "-per-image", "2", "-tile", "32"}
	wantPNG := filepath.Join(tmp, "want.png")
	wantOut, _, wantCode := runCmd(t, append(args, "-json", "-o", wantPNG, data)...)
	if wantCode != 1 || !strings.Contains(wantOut, `"distractors":[{`) {
		t.Fatalf("unsharded: exit %d, %s", wantCode, wantOut)
	}
	want, err := os.ReadFile(wantPNG)
	if err != nil {
		t.Fatal(err)
	}
	parts := runShards(t, 3, append(args, data)...)
	gotPNG := filepath.Join(tmp, "got.png")
	out, errOut, code := runCmd(t, append([]string{"merge", "-json", "-o", gotPNG}, parts...)...)
	if out != wantOut || code != wantCode {
		t.Errorf("merged: exit %d (%s), stdout:\n%s\nwant:\n%s", code, errOut, out, wantOut)
	}
	got, err := os.ReadFile(gotPNG)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("merged PNG differs from the unsharded one (%v)", err)
	}

	// Text and the default patches.png, from another working directory.
	cwd, _ := os.Getwd()
	run1 := func(dir string, a ...string) (string, []byte) {
		t.Helper()
		if err := os.Chdir(dir); err != nil {
			t.Fatal(err)
		}
		defer os.Chdir(cwd)
		out, _, _ := runCmd(t, a...)
		b, err := os.ReadFile(filepath.Join(dir, "patches.png"))
		if err != nil {
			t.Fatal(err)
		}
		return out, b
	}
	wantText, wantDefault := run1(mkdir(t, tmp, "one"), append(args, data)...)
	gotText, gotDefault := run1(mkdir(t, tmp, "merged"), append([]string{"merge"}, parts...)...)
	if gotText != wantText || !bytes.Equal(gotDefault, wantDefault) || !bytes.Equal(wantDefault, want) {
		t.Errorf("text merge:\n%s\nwant:\n%s\nPNGs equal: %v, %v", gotText, wantText, bytes.Equal(gotDefault, wantDefault), bytes.Equal(wantDefault, want))
	}
}

func TestParseShard(t *testing.T) {
	defer func(g func(string) string) { getenv = g }(getenv)
	env := map[string]string{}
	getenv = func(k string) string { return env[k] }
	for _, tt := range []struct {
		arg  string
		env  map[string]string
		want shard
		err  string
	}{
		{arg: "0/1", want: shard{0, 1}},
		{arg: "2/3", want: shard{2, 3}},
		{arg: "3/3", err: `-shard 3/3: shard index "3" out of range [0, 3)`},
		{arg: "-1/3", err: "out of range"},
		{arg: "1", err: "want I/N or auto/N"},
		{arg: "1/0", err: "want I/N or auto/N"},
		{arg: "a/b", err: "want I/N or auto/N"},
		{arg: "auto/4", env: map[string]string{"JOB_COMPLETION_INDEX": "3"}, want: shard{3, 4}},
		{arg: "auto/4", env: map[string]string{"JOB_COMPLETION_INDEX": "4"}, err: `JOB_COMPLETION_INDEX=4: shard index "4" out of range [0, 4)`},
		{arg: "auto/4", env: map[string]string{"SLURM_ARRAY_TASK_ID": "2"}, want: shard{2, 4}},
		{arg: "auto/4", env: map[string]string{"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "1"}, want: shard{3, 4}},
		{arg: "auto/4", env: map[string]string{"SLURM_ARRAY_TASK_ID": "x"}, err: `SLURM_ARRAY_TASK_ID="x" is not a number`},
		{arg: "auto/4", env: map[string]string{"JOB_COMPLETION_INDEX": "1", "SLURM_ARRAY_TASK_ID": "3"}, want: shard{1, 4}},
		{arg: "auto/4", err: "neither JOB_COMPLETION_INDEX (Kubernetes Indexed Job) nor SLURM_ARRAY_TASK_ID (Slurm array) is set; give the index: -shard I/4"},
	} {
		env = tt.env
		got, err := parseShard(tt.arg)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s %v: error %v, want %q", tt.arg, tt.env, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s %v: %v, %v; want %v", tt.arg, tt.env, got, err, tt.want)
		}
	}
	for i, total := range []int{0, 1, 2, 7, 100} {
		next := 0
		for k := range 3 {
			lo, hi := shard{k, 3}.slice(total)
			if lo != next || hi < lo {
				t.Errorf("case %d: shard %d/3 of %d is [%d, %d)", i, k, total, lo, hi)
			}
			next = hi
		}
		if next != total {
			t.Errorf("3 shards of %d end at %d", total, next)
		}
	}
}

// merge refuses parts that do not make one whole run, naming the file.
func TestMergeErrors(t *testing.T) {
	data := shardTree(t)
	w := int8Model(t, testmodel.Options{Seed: 5, InputSize: 48})
	parts := runShards(t, 3, "eval", "-weights", w, "-limit", "2", data)
	other := runShards(t, 3, "eval", "-weights", w, "-limit", "3", data)
	patches := runShards(t, 2, "patches", "-weights", w, "-class", "tench", data)
	junk := filepath.Join(t.TempDir(), "junk.json")
	mustWrite(t, junk, `{"hello": 1}`)
	for _, tt := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{parts[0], parts[1]}, 2, "missing shard(s) 2 of 3"},
		{[]string{parts[0], parts[1], parts[2], parts[1]}, 1, parts[1] + ": shard 1/3 given twice"},
		{[]string{parts[0], other[1], parts[2]}, 1, other[1] + ": shard 1/3 is not of the same run as " + parts[0] + ": its model, options or inputs differ"},
		{[]string{parts[0], patches[1]}, 1, patches[1] + ": a part of 'bagnet patches -shard 1/2', not of the same run"},
		{[]string{junk}, 1, junk + `: not a part written by 'bagnet eval -shard' or 'bagnet patches -shard' (format "", want "bagnet-part/1")`},
		{[]string{"-o", "x.png", parts[0], parts[1], parts[2]}, 2, "-o is for the parts of patches"},
		{nil, 2, "no part files given"},
	} {
		_, errOut, code := runCmd(t, append([]string{"merge"}, tt.args...)...)
		checkOneLine(t, errOut)
		if code != tt.code || !strings.Contains(errOut, tt.err) {
			t.Errorf("merge %v: exit %d, stderr %q; want %d, %q", tt.args, code, errOut, tt.code, tt.err)
		}
	}
	if _, errOut, code := runCmd(t, "patches", "-weights", w, "-class", "tench", "-shard", "0/2", "-o", "x.png", data); code != 2 || !strings.Contains(errOut, "give -o to 'bagnet merge'") {
		t.Errorf("patches -shard -o: exit %d, %q", code, errOut)
	}
}
