// Command bench summarises make bench's run: Go benchmark lines (go test
// -bench '^BenchmarkInt8$' -count N, and onnxruntime-node's as
// BenchmarkORT/<net>-<dtype>/1 from ort.js) on stdin, a Markdown table on
// stdout with every case's median and fastest time in ms and its ratios
// against the pure-Go kernel and against onnxruntime-node int8 on one
// thread, both measured in the same run.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// line matches "BenchmarkInt8/full224/native/1-2  3  1234 ns/op ...".
var line = regexp.MustCompile(`^Benchmark(\S+?)(-\d+)?\s+\d+\s+([0-9.]+) ns/op`)

type series struct {
	name string
	ns   []float64
}

func (s *series) median() float64 {
	v := slices.Clone(s.ns)
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	var order []string
	runs := map[string]*series{}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		ns, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			return fmt.Errorf("%q: %v", sc.Text(), err)
		}
		s := runs[m[1]]
		if s == nil {
			s = &series{name: m[1]}
			runs[m[1]] = s
			order = append(order, m[1])
		}
		s.ns = append(s.ns, ns)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(order) == 0 {
		return fmt.Errorf("no benchmark lines on stdin")
	}
	ms := func(name string) float64 {
		if s := runs[name]; s != nil {
			return s.median() / 1e6
		}
		return 0
	}
	fmt.Fprintln(out, "| network | run | median ms | fastest ms | runs | speed-up over pure Go, 1 core | time / onnxruntime-node int8, 1 thread |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|")
	for _, name := range order {
		s := runs[name]
		parts := strings.Split(name, "/")
		var net, what string
		switch {
		case parts[0] == "Int8" && len(parts) == 4:
			net, what = parts[1], fmt.Sprintf("int8, %s kernel, %s core(s)", parts[2], parts[3])
		case parts[0] == "ORT" && len(parts) == 3:
			n, dtype, _ := strings.Cut(parts[1], "-")
			net, what = n, fmt.Sprintf("onnxruntime-node, %s, %s thread", dtype, parts[2])
		default:
			net, what = name, ""
		}
		med := s.median() / 1e6
		fastest := slices.Min(s.ns) / 1e6
		vsGo, vsORT := "-", "-"
		if g := ms("Int8/" + net + "/go/1"); g > 0 {
			vsGo = fmt.Sprintf("%.2fx", g/med)
		}
		if o := ms("ORT/" + net + "-int8/1"); o > 0 {
			vsORT = fmt.Sprintf("%.2f", med/o)
		}
		fmt.Fprintf(out, "| %s | %s | %.1f | %.1f | %d | %s | %s |\n", net, what, med, fastest, len(s.ns), vsGo, vsORT)
	}
	return nil
}
