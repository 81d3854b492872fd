package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// A shard is the i-th of n deterministic slices of a run's inputs (the
// sorted image list eval and patches build from DIR): contiguous, in order,
// of near-equal size.
type shard struct{ i, n int }

// fullRun is the whole input list.
var fullRun = shard{0, 1}

// slice is the half-open range of the total inputs that s covers.
func (s shard) slice(total int) (lo, hi int) {
	return s.i * total / s.n, (s.i + 1) * total / s.n
}

// maxShards bounds N in -shard I/N.
const maxShards = 100000

// shardFlag adds -shard.
func shardFlag(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "shard", "", "process only slice I of N (I from 0) of DIR's sorted images and print a partial result as JSON for 'bagnet merge'; auto/N takes I from JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID (Slurm array, less SLURM_ARRAY_TASK_MIN)")
}

// getenv reads the environment for -shard auto/N (tests replace it).
var getenv = os.Getenv

// parseShard parses -shard: "I/N" or "auto/N".
func parseShard(s string) (shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(ns)
	if !ok || err != nil || n < 1 || n > maxShards {
		return shard{}, usagef("-shard %q: want I/N or auto/N with N from 1 to %d", s, maxShards)
	}
	what := "-shard " + s
	if is == "auto" {
		if v := getenv("JOB_COMPLETION_INDEX"); v != "" {
			is, what = v, "JOB_COMPLETION_INDEX="+v
		} else if v := getenv("SLURM_ARRAY_TASK_ID"); v != "" {
			id, err := strconv.Atoi(v)
			if err != nil {
				return shard{}, usagef("-shard %s: SLURM_ARRAY_TASK_ID=%q is not a number", s, v)
			}
			what = "SLURM_ARRAY_TASK_ID=" + v
			if m := getenv("SLURM_ARRAY_TASK_MIN"); m != "" {
				min, err := strconv.Atoi(m)
				if err != nil {
					return shard{}, usagef("-shard %s: SLURM_ARRAY_TASK_MIN=%q is not a number", s, m)
				}
				id -= min
				what += " less SLURM_ARRAY_TASK_MIN=" + m
			}
			is = strconv.Itoa(id)
		} else {
			return shard{}, usagef("-shard %s: neither JOB_COMPLETION_INDEX (Kubernetes Indexed Job) nor SLURM_ARRAY_TASK_ID (Slurm array) is set; give the index: -shard I/%d", s, n)
		}
	}
	i, err := strconv.Atoi(is)
	if err != nil || i < 0 || i >= n {
		return shard{}, usagef("%s: shard index %q out of range [0, %d)", what, is, n)
	}
	return shard{i, n}, nil
}

// pathsDigest is the SHA-256 of the whole run's input list: the shards of
// one run agree on it, so merge can tell parts of different runs apart.
func pathsDigest[T any](items []T, path func(T) string) string {
	h := sha256.New()
	for _, it := range items {
		io.WriteString(h, path(it))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// partFormat names the format of a part (the first key of its JSON).
const partFormat = "bagnet-part/1"

// part is what eval -shard and patches -shard print: one JSON object on
// one line. Everything but the results is the same in every part of a run.
type part struct {
	Format  string      `json:"format"`
	Command string      `json:"command"` // eval or patches
	Shard   [2]int      `json:"shard"`   // I, N
	Eval    *evalRun    `json:"eval,omitempty"`
	Patches *patchesRun `json:"patches,omitempty"`
}

// writePart prints p as one line of JSON.
func writePart(e *env, p *part) error {
	p.Format = partFormat
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encoding the partial result: %v", err)
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", b)
	return err
}

var mergeCmd = &command{name: "merge", opts: func() options { return new(mergeOpts) },
	summary: "combine the partial results of 'eval -shard' or 'patches -shard' (files of one or more parts) into exactly what one unsharded run prints",
	usage:   "[-json] [-o OUT.png] PART..."}

type mergeOpts struct {
	json bool
	out  string
}

// define adds the command's flags.
func (o *mergeOpts) define(fs *flag.FlagSet) {
	fs.BoolVar(&o.json, "json", false, "print the report as JSON, as eval -json and patches -json do")
	fs.StringVar(&o.out, "o", "", "patches: the output PNG (default patches.png; with -json, only when given)")
}

func (o *mergeOpts) run(e *env, args []string) error {
	if len(args) == 0 {
		return usagef("no part files given")
	}
	var parts []*part
	where := map[*part]string{}
	for _, path := range args {
		ps, err := readParts(path)
		if err != nil {
			return err
		}
		for _, p := range ps {
			where[p] = path
		}
		parts = append(parts, ps...)
	}
	first := parts[0]
	n := first.Shard[1]
	byIndex := make([]*part, n)
	for _, p := range parts {
		if p.Command != first.Command || p.Shard[1] != n {
			return fileErrf(where[p], "a part of 'bagnet %s -shard %d/%d', not of the same run as %s ('bagnet %s -shard %d/%d')",
				p.Command, p.Shard[0], p.Shard[1], where[first], first.Command, first.Shard[0], n)
		}
		if err := sameRun(first, p); err != nil {
			return fileErrf(where[p], "shard %d/%d is not of the same run as %s: %v", p.Shard[0], n, where[first], err)
		}
		i := p.Shard[0]
		if byIndex[i] != nil {
			return fileErrf(where[p], "shard %d/%d given twice (also in %s)", i, n, where[byIndex[i]])
		}
		byIndex[i] = p
	}
	var missing []string
	for i, p := range byIndex {
		if p == nil {
			missing = append(missing, strconv.Itoa(i))
		}
	}
	if len(missing) > 0 {
		return usagef("missing shard(s) %s of %d", listNames(missing, 10), n)
	}
	switch first.Command {
	case "eval":
		if o.out != "" {
			return usagef("-o is for the parts of patches; these are of eval")
		}
		run, err := mergeEval(byIndex)
		if err != nil {
			return err
		}
		return run.finish(e, o.json)
	default: // patches (readParts checked)
		run, err := mergePatches(byIndex)
		if err != nil {
			return err
		}
		out := o.out
		if out == "" && !o.json {
			out = "patches.png"
		}
		if out != "" {
			if err := checkOut(out); err != nil {
				return err
			}
		}
		return run.finish(e, o.json, out)
	}
}

// readParts reads the parts in one file: one or more JSON objects.
func readParts(path string) ([]*part, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fileErr(path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var ps []*part
	for {
		var p part
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fileErrf(path, "not a part written by 'bagnet eval -shard' or 'bagnet patches -shard': %v", err)
		}
		if p.Format != partFormat {
			return nil, fileErrf(path, "not a part written by 'bagnet eval -shard' or 'bagnet patches -shard' (format %q, want %q)", p.Format, partFormat)
		}
		i, n := p.Shard[0], p.Shard[1]
		ok := n >= 1 && n <= maxShards && i >= 0 && i < n
		switch p.Command {
		case "eval":
			ok = ok && p.Eval != nil && p.Patches == nil
		case "patches":
			ok = ok && p.Patches != nil && p.Eval == nil
		default:
			ok = false
		}
		if !ok {
			return nil, fileErrf(path, "a damaged part (command %q, shard %d/%d)", p.Command, i, n)
		}
		ps = append(ps, &p)
	}
	if len(ps) == 0 {
		return nil, fileErrf(path, "no parts in the file")
	}
	return ps, nil
}

// sameRun fails unless a and b are parts of one run: the same command line
// on the same inputs (all but their results agree).
func sameRun(a, b *part) error {
	ha, err := runHeader(a)
	if err != nil {
		return err
	}
	hb, err := runHeader(b)
	if err != nil {
		return err
	}
	if !bytes.Equal(ha, hb) {
		return errors.New("its model, options or inputs differ")
	}
	return nil
}

// runHeader is the JSON of a part without its shard and its results.
func runHeader(p *part) ([]byte, error) {
	q := *p
	q.Shard = [2]int{}
	if p.Eval != nil {
		ev := *p.Eval
		ev.Results = nil
		q.Eval = &ev
	}
	if p.Patches != nil {
		pr := *p.Patches
		pr.Images, pr.Errors, pr.ErrorLines = 0, 0, nil
		pr.For, pr.Distractors, pr.Against = nil, nil, nil
		q.Patches = &pr
	}
	return json.Marshal(&q)
}
