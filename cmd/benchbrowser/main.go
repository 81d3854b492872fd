// Command benchbrowser benchmarks the inference worker in headless Chromium
// (`make bench-browser`): the full-size BagNet-33 at 224 (random weights,
// 1000 classes) and the shipped model, on WebAssembly SIMD and on the
// pure-Go fallback, with 1 and N band workers. It serves a built site
// (dist/, from `make site`) plus a benchmark page and prints, per
// configuration, the time to ready, the warm-up pass, the first and the
// median run and GMAC/s, the time of occluding a patch-sized square (int8:
// only the cells that see it are recomputed, shared among the workers),
// then where the GEMM time of one run went, then how long the page itself
// takes from a user's action to showing its outcome (page.go).
//
// Usage:
//
//	go run ./cmd/benchbrowser [-site dist] [-workers 2] [-runs 5] [-chromium /usr/bin/chromium]
package main

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bagnetweb/bagnet/internal/testmodel"
	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/server/static"
)

//go:embed page
var page embed.FS

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchbrowser:", err)
		os.Exit(1)
	}
}

type config struct {
	Model   string `json:"model"`
	SIMD    bool   `json:"simd"`
	Workers int    `json:"workers"`
	Runs    int    `json:"runs"`
}

type result struct {
	ReadyMs  float64        `json:"readyMs"`
	WarmupMs float64        `json:"warmupMs"`
	Bench    protocol.Bench `json:"bench"`
}

func run(args []string, out io.Writer) error {
	f := flag.NewFlagSet("benchbrowser", flag.ContinueOnError)
	site := f.String("site", "dist", "the built site (make site)")
	workers := f.Int("workers", min(runtime.NumCPU(), 4), "band workers of the N-worker rows")
	runs := f.Int("runs", 5, "timed runs per configuration (2 for the slow full-size fallback)")
	chromium := f.String("chromium", "/usr/bin/chromium", "the browser")
	fallback := f.Bool("fallback", true, "also run the pure-Go fallback (slow on the full-size model)")
	pageRows := f.Bool("page", true, "also time the page itself (upload, occlusion, hover)")
	ortDir := f.String("ort", "", "a folder with onnxruntime-web (ort.wasm.min.js and its wasm) and bagnet33.onnx: the baseline row")
	if err := f.Parse(args); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(*site, "worker.wasm")); err != nil {
		return fmt.Errorf("no built site in %s (run make site): %v", *site, err)
	}
	dir, err := os.MkdirTemp("", "benchbrowser")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.CopyFS(dir, os.DirFS(*site)); err != nil {
		return err
	}
	sub, _ := fs.Sub(page, "page")
	if err := os.CopyFS(dir, sub); err != nil {
		return err
	}
	if *ortDir != "" {
		if err := os.CopyFS(filepath.Join(dir, "ort"), os.DirFS(*ortDir)); err != nil {
			return fmt.Errorf("-ort: %w", err)
		}
	}
	fmt.Fprintln(os.Stderr, "benchbrowser: making the full-size BagNet-33 (random weights, 1000 classes, 224 px) ...")
	full, err := testmodel.Int8(testmodel.Options{Arch: "bagnet33", Width: 1, InputSize: 224, Resize: "crop", Classes: 1000, Calib: 1, Seed: 1})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "bench-full.safetensors"), full, 0o644); err != nil {
		return err
	}
	h, err := static.NewHandler(dir, static.Options{})
	if err != nil {
		return err
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(*chromium),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+"/bench.html")); err != nil {
		return err
	}
	version, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.userAgent`))
	cores, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`navigator.hardwareConcurrency`))
	fmt.Fprintf(out, "browser: %s; navigator.hardwareConcurrency %d; Go %s; %s\n\n", version, cores, runtime.Version(), time.Now().Format("2006-01-02 15:04"))

	fmt.Fprintf(out, "| model | engine | to ready ms | warm-up ms | first run ms | median ms | GMAC/s | occlude q x q: median ms (cells) |\n|---|---|---|---|---|---|---|---|\n")
	fullMACs := int64(16.26e9)
	if *ortDir != "" {
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf("bagnetRunORT({runs: %d})", *runs), chromedp.EvalAwaitPromise))
		if err != nil {
			return fmt.Errorf("onnxruntime-web: %w", err)
		}
		var o struct {
			ReadyMs float64   `json:"readyMs"`
			RunsMs  []float64 `json:"runsMs"`
			Version string    `json:"version"`
		}
		if err := json.Unmarshal([]byte(raw), &o); err != nil {
			return err
		}
		med := median(o.RunsMs[1:])
		fmt.Fprintf(out, "| BagNet-33 full, 224, 1000 classes | onnxruntime-web %s, WASM SIMD, fp32, 1 thread (baseline) | %.0f | - | %.0f | %.1f | %.2f | - |\n",
			o.Version, o.ReadyMs, o.RunsMs[0], med, float64(fullMACs)/med/1e6)
	}
	type gemmRow struct {
		name string
		r    *result
	}
	var gemmRows []gemmRow
	for _, m := range []struct{ name, file string }{{"BagNet-33 full, 224, 1000 classes", "bench-full.safetensors"}, {"shipped (width 1/4, 128)", "model.safetensors"}} {
		for _, simd := range []bool{true, false} {
			if !simd && !*fallback {
				continue
			}
			for _, w := range slices.Compact([]int{1, *workers}) {
				c := config{Model: m.file, SIMD: simd, Workers: w, Runs: *runs}
				if !simd && strings.HasPrefix(m.file, "bench-full") {
					c.Runs = min(c.Runs, 2)
				}
				r, err := bench(ctx, c)
				if err != nil {
					return fmt.Errorf("%s, simd %v, %d workers: %w", m.name, simd, w, err)
				}
				runs := r.Bench.RunsMs
				med := median(runs[min(1, len(runs)-1):])
				occ := "-"
				if o := r.Bench.Occlusion; o != nil && len(r.Bench.OccludeMs) > 0 {
					occ = fmt.Sprintf("%.1f (%d of %d on %d)", median(r.Bench.OccludeMs), o.Recomputed, o.Cells, o.Workers)
				}
				fmt.Fprintf(out, "| %s | %s | %.0f | %.0f | %.0f | %.1f | %.2f | %s |\n", m.name, r.Bench.Engine, r.ReadyMs, r.WarmupMs,
					runs[0], med, float64(r.Bench.MACs)/med/1e6, occ)
				if simd && w == 1 {
					gemmRows = append(gemmRows, gemmRow{m.name, r})
				}
			}
		}
	}
	for _, g := range gemmRows {
		printGEMMs(out, g.name, g.r)
	}
	if *pageRows {
		return printPage(ctx, out, srv.URL, *site, *workers, *runs)
	}
	return nil
}

func bench(ctx context.Context, c config) (*result, error) {
	arg, _ := json.Marshal(c)
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf("bagnetRunBench(%s)", arg), chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, err
	}
	var r result
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return nil, err
	}
	if len(r.Bench.RunsMs) == 0 {
		return nil, errors.New("no runs")
	}
	return &r, nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	sort.Float64s(s)
	return s[len(s)/2]
}

// printGEMMs sums one run's GEMM calls by shape.
func printGEMMs(out io.Writer, name string, r *result) {
	type agg struct {
		m, n, k, calls int
		ms             float64
	}
	by := map[[3]int]*agg{}
	var total float64
	for _, g := range r.Bench.GEMMs {
		key := [3]int{g.M, g.N, g.K}
		if by[key] == nil {
			by[key] = &agg{m: g.M, n: g.N, k: g.K}
		}
		by[key].calls++
		by[key].ms += g.Ms
		total += g.Ms
	}
	rows := make([]*agg, 0, len(by))
	for _, a := range by {
		rows = append(rows, a)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ms > rows[j].ms })
	run := r.Bench.TimedMs
	fmt.Fprintf(out, "\nOne run of %s, %s, every GEMM and requantisation timed: %.0f ms; GEMMs %.0f ms (%.0f%%), requantisation %.0f ms, the rest %.0f ms. The 12 largest GEMMs by time:\n\n",
		name, r.Bench.Engine, run, total, 100*total/run, r.Bench.RequantMs, run-total-r.Bench.RequantMs)
	fmt.Fprintf(out, "| m x n x k | calls | ms | GMAC/s |\n|---|---|---|---|\n")
	for _, a := range rows[:min(12, len(rows))] {
		macs := float64(a.m) * float64(a.n) * float64(a.k) * float64(a.calls)
		fmt.Fprintf(out, "| %d x %d x %d | %d | %.1f | %.1f |\n", a.m, a.n, a.k, a.calls, a.ms, macs/a.ms/1e6)
	}
}
