package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// The page rows time the real page (index.html), not only its worker:
// from the user's action to the page showing its outcome, measured in the
// page (performance.now()): an uploaded image to the explained result
// (body data-state "done"), a click on the occlusion picture to the new
// scores, and a pointer move over the heatmap to the hovered patch's
// description.

// waitJS installs window.bagnetT0 (set by the first event of type ev, seen
// before the page's own handlers) and window.bagnetT1, a promise of the
// time when pred first holds after that event, checked on every change of
// the document.
const waitJS = `((ev, pred) => {
	window.bagnetT0 = null;
	document.addEventListener(ev, () => { window.bagnetT0 ??= performance.now(); }, {capture: true, once: true});
	window.bagnetT1 = new Promise((resolve) => {
		const check = () => {
			if (window.bagnetT0 !== null && pred()) { obs.disconnect(); resolve(performance.now() - window.bagnetT0); }
		};
		const obs = new MutationObserver(check);
		obs.observe(document.documentElement, {subtree: true, childList: true, attributes: true, characterData: true});
	});
})`

// timed runs act after arming waitJS for event ev and predicate pred (a JS
// function expression) and returns the milliseconds until pred held.
func timed(ctx context.Context, ev, pred string, act chromedp.Action[chromedp.Void]) (float64, error) {
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf("%s(%q, %s)", waitJS, ev, pred))); err != nil {
		return 0, err
	}
	if err := chromedp.Do(ctx, act); err != nil {
		return 0, err
	}
	tctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	ms, err := chromedp.Run(tctx, chromedp.Evaluate[float64](`window.bagnetT1`, chromedp.EvalAwaitPromise))
	if err != nil {
		st, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.state + ": " + (document.querySelector("#error")?.textContent || document.querySelector("#status")?.textContent || "")`))
		return 0, fmt.Errorf("after the %s event (page %q): %w", ev, st, err)
	}
	return ms, nil
}

// box brings the element sel into view (instantly) and returns its box.
func box(ctx context.Context, sel string) ([]float64, error) {
	b, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](fmt.Sprintf(`(async () => {
		const e = document.querySelector(%q);
		e.scrollIntoView({block: "center", behavior: "instant"});
		await new Promise((r) => setTimeout(r, 700)); // a smooth scroll of the page's own ends
		e.scrollIntoView({block: "center", behavior: "instant"});
		const r = e.getBoundingClientRect();
		return [r.left, r.top, r.width, r.height];
	})()`, sel), chromedp.EvalAwaitPromise))
	if err == nil && len(b) != 4 {
		err = fmt.Errorf("%s: no box", sel)
	}
	return b, err
}

type pageTimes struct {
	Classify, Occlude, Hover []float64
	Timings                  string // the page's own account of the last classification
}

// pageBench opens the page with model file model on workers workers and
// times runs classifications of image (a file path), runs occlusions and
// 2*runs pointer moves.
func pageBench(ctx context.Context, base, model string, workers, runs int, image string) (*pageTimes, error) {
	ctx, cancel := chromedp.NewContext(ctx)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Navigate(fmt.Sprintf("%s/?model=%s&workers=%d", base, model, workers))); err != nil {
		return nil, err
	}
	tctx, tcancel := context.WithTimeout(ctx, 2*time.Minute)
	defer tcancel()
	st, err := chromedp.Run(tctx, chromedp.Evaluate[string](`new Promise((resolve) => {
		const check = () => ["ready", "error"].includes(document.body.dataset.state) ?
			resolve(document.body.dataset.state + " " + (document.querySelector("#error")?.textContent ?? "")) : setTimeout(check, 50);
		check();
	})`, chromedp.EvalAwaitPromise))
	if err != nil || !strings.HasPrefix(st, "ready") {
		return nil, fmt.Errorf("waiting for the page: %q %v", st, err)
	}
	var p pageTimes
	done := `() => document.body.dataset.state === "done"`
	for k := 0; k < runs; k++ {
		// An input's change event fires only when the file differs: clear it.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector("#file").value = ""`)); err != nil {
			return nil, err
		}
		ms, err := timed(ctx, "change", done, chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{image}))
		if err != nil {
			return nil, fmt.Errorf("classify: %w", err)
		}
		p.Classify = append(p.Classify, ms)
	}
	p.Timings, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(".timings")?.textContent.trim() ?? ""`))

	b, err := box(ctx, "#occlusion-map")
	if err != nil {
		return nil, err
	}
	x, y := b[0]+b[2]/2, b[1]+b[3]/2
	for k := 0; k < runs; k++ {
		if err := chromedp.Do(ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y),
			chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1))); err != nil {
			return nil, err
		}
		ms, err := timed(ctx, "pointerup", done, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
		if err != nil {
			return nil, fmt.Errorf("occlude: %w", err)
		}
		p.Occlude = append(p.Occlude, ms)
	}

	if b, err = box(ctx, "#heatmap"); err != nil {
		return nil, err
	}
	for k := 0; k < 2*runs; k++ {
		// Alternate between two points a quarter of the picture apart: a new patch each move.
		f := 0.375 + 0.25*float64(k%2)
		x, y := b[0]+f*b[2], b[1]+f*b[3]
		was, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(".hover-title")?.textContent ?? ""`))
		pred := fmt.Sprintf(`() => { const t = document.querySelector(".hover-title")?.textContent ?? ""; return t !== "" && t !== %q; }`, was)
		ms, err := timed(ctx, "pointermove", pred, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y))
		if err != nil {
			return nil, fmt.Errorf("hover: %w", err)
		}
		p.Hover = append(p.Hover, ms)
	}
	return &p, nil
}

// printPage prints the page rows.
func printPage(ctx context.Context, out io.Writer, base, site string, workers, runs int) error {
	image, err := filepath.Abs(filepath.Join(site, "samples", "n01440764_tench.jpg"))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nThe page itself (index.html, WebAssembly SIMD), medians of %d runs in ms, from the user's action to the page showing its outcome (%s):\n\n", runs, filepath.Base(image))
	fmt.Fprintf(out, "| model | workers | upload to explained result | occlusion click to new scores | pointer move to patch shown | the page's own account (last upload) |\n|---|---|---|---|---|---|\n")
	for _, m := range []struct{ name, file string }{{"BagNet-33 full, 224, 1000 classes", "bench-full.safetensors"}, {"shipped (width 1/4, 128)", "model.safetensors"}} {
		for _, w := range slices.Compact([]int{1, workers}) {
			p, err := pageBench(ctx, base, m.file, w, runs, image)
			if err != nil {
				return fmt.Errorf("page, %s, %d workers: %w", m.name, w, err)
			}
			fmt.Fprintf(out, "| %s | %d | %.0f | %.0f | %.1f | %s |\n", m.name, w, median(p.Classify), median(p.Occlude), median(p.Hover),
				strings.ReplaceAll(p.Timings, "|", "/"))
		}
	}
	return nil
}
