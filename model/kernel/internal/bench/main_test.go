package main

import (
	"strings"
	"testing"
)

func TestSummary(t *testing.T) {
	in := `goos: linux
BenchmarkInt8/full224/go/1-2     1  8000000000 ns/op  2.0 GMAC/s
BenchmarkInt8/full224/go/1-2     1  9000000000 ns/op  2.0 GMAC/s
BenchmarkInt8/full224/native/1-2 1   400000000 ns/op
BenchmarkInt8/full224/native/1-2 1   600000000 ns/op
BenchmarkInt8/full224/native/1-2 1   500000000 ns/op
BenchmarkORT/full224-int8/1 	1	1000000000 ns/op
BenchmarkInt8/shipped/native/1-2 1   10000000 ns/op
`
	var out strings.Builder
	if err := run(strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| full224 | int8, go kernel, 1 core(s) | 8500.0 | 8000.0 | 2 | 1.00x | 8.50 |",
		"| full224 | int8, native kernel, 1 core(s) | 500.0 | 400.0 | 3 | 17.00x | 0.50 |",
		"| full224 | onnxruntime-node, int8, 1 thread | 1000.0 | 1000.0 | 1 | 8.50x | 1.00 |",
		"| shipped | int8, native kernel, 1 core(s) | 10.0 | 10.0 | 1 | - | - |",
	} {
		if !strings.Contains(out.String(), want+"\n") {
			t.Errorf("missing row %q in\n%s", want, out.String())
		}
	}
	if err := run(strings.NewReader("nothing"), &out); err == nil {
		t.Error("no benchmark lines: no error")
	}
}
