package browsertest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Dropping a folder on the batch or teaching panel. A script cannot make a
// real drop of a folder: DataTransferItem.webkitGetAsEntry gives entries
// only for what the user drags from the system. So these tests hand the
// panel a drop event whose dataTransfer's one item gives a FileSystemEntry
// tree of the test's own making, shaped as the browsers' (isFile,
// isDirectory, name, fullPath, file(ok, fail), createReader().readEntries
// in chunks, asynchronously), over real File objects with the folder's
// bytes. They prove the panel's drop handler, the walk (recursion, chunked
// folders, paths like webkitdirectory's) and everything after it in the
// page, in every browser; not the browser's own entries of a real drag.

// putFiles makes window.__drop[rel] a File with the bytes of each file
// under dir, rel being its path from dir's parent (FOLDER/CLASS/NAME).
func putFiles(t *testing.T, rt *rtab, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(filepath.Dir(dir), p)
		if err != nil {
			return err
		}
		js := fmt.Sprintf(`((window.__drop = window.__drop || {})[%q] = %s, 0)`, filepath.ToSlash(rel), fileJS(b, d.Name()))
		if _, err := rt.p.eval(rt.ctx, js); err != nil {
			return fmt.Errorf("%s: %v", rel, err)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatalf("%s: put the files in the page: %v", rt.name, err)
	}
	return n
}

// fileJS is a JavaScript expression that makes a File named name with the
// bytes b.
func fileJS(b []byte, name string) string {
	return fmt.Sprintf(`(() => {
		const s = atob(%q), u = new Uint8Array(s.length);
		for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
		return new File([u], %q);
	})()`, base64.StdEncoding.EncodeToString(b), name)
}

// dropTreeJS drops the files of window.__drop on the element %q as one
// folder (the first path's first name), through a FileSystemEntry tree, and
// gives whether the drop's default action was prevented (the panel took it).
const dropTreeJS = `(() => {
	const files = window.__drop || {};
	delete window.__drop;
	const dirs = {};
	const dir = p => {
		if (dirs[p]) return dirs[p];
		const parts = p.split("/"), kids = [];
		const d = dirs[p] = {isFile: false, isDirectory: true, name: parts[parts.length - 1], fullPath: "/" + p,
			createReader() {
				let i = 0;
				return {readEntries(ok, fail) { setTimeout(() => { const c = kids.slice(i, i + 3); i += c.length; ok(c); }, 0); }};
			}, kids};
		if (parts.length > 1) dir(parts.slice(0, -1).join("/")).kids.push(d);
		return d;
	};
	const paths = Object.keys(files);
	for (const p of paths) {
		const parts = p.split("/"), name = parts.pop(), f = files[p];
		dir(parts.join("/")).kids.push({isFile: true, isDirectory: false, name, fullPath: "/" + p,
			file(ok, fail) { setTimeout(() => ok(f), 0); }});
	}
	const root = dirs[paths[0].split("/")[0]];
	const ev = new Event("drop", {bubbles: true, cancelable: true});
	Object.defineProperty(ev, "dataTransfer", {value: {types: ["Files"], files: [],
		items: [{kind: "file", type: "", webkitGetAsEntry: () => root, getAsFile: () => null}]}});
	document.querySelector(%q).dispatchEvent(ev);
	return ev.defaultPrevented;
})()`

// dropFolder drops the folder dir (on disk) on the element sel.
func dropFolder(t *testing.T, rt *rtab, sel, dir string) {
	t.Helper()
	putFiles(t, rt, dir)
	raw, err := rt.p.eval(rt.ctx, fmt.Sprintf(dropTreeJS, sel))
	if err != nil {
		t.Fatalf("%s: drop %s on %s: %v", rt.name, filepath.Base(dir), sel, err)
	}
	if string(raw) != "true" {
		t.Fatalf("%s: the drop on %s was not taken (defaultPrevented %s)", rt.name, sel, raw)
	}
}

// decode reads the JSON value of expr into v.
func (rt *rtab) decode(t *testing.T, expr string, v any) {
	t.Helper()
	raw, err := rt.p.eval(rt.ctx, expr)
	if err == nil {
		err = json.Unmarshal(raw, v)
	}
	if err != nil {
		t.Fatalf("%s: %s: %v", rt.name, expr, err)
	}
}

// testFolderDrop drops a labelled folder on the batch panel and checks the
// page's report against 'bagnet eval -json' on the same folder, byte for
// byte; then drops a folder of classes on the teaching panel and checks the
// taught model file against 'bagnet teach' on it, by SHA-256 and size.
func testFolderDrop(t *testing.T, rt *rtab) {
	t.Run("batch", func(t *testing.T) {
		parent, name := batchFolder(t, []string{"n01440764", "n02102040"}, 2)
		want := cliEval(t, parent, name)
		rt.open(t, "")
		if _, err := rt.p.eval(rt.ctx, `window.bagnetBatch = null`); err != nil {
			t.Fatal(err)
		}
		dropFolder(t, rt, "#batch", filepath.Join(parent, name))
		rt.waitFor(t, `window.bagnetBatch && !window.bagnetBatch.running ? "yes" : ""`)
		var s batchState
		rt.decode(t, "window.bagnetBatch", &s)
		// 2x2 labelled, the corrupt one, holiday/beach.jpg and loose.jpg.
		if s.Total != 7 || s.Done != 7 || s.Errors != 1 || s.Cancelled {
			t.Errorf("%s: window.bagnetBatch = %+v, want 7 of 7 done, 1 error", rt.name, s)
		}
		if s.Report != string(want) {
			t.Errorf("%s: the dropped folder's report differs from bagnet eval -json:\npage %s\ncli  %s", rt.name, s.Report, want)
		}
		t.Logf("%s: a dropped folder of %d images at %.2f images/s", rt.name, s.Done, s.Rate)
	})
	t.Run("teach", func(t *testing.T) {
		parent, name, _ := teachFolder(t, map[string]string{"fish": "n01440764", "dog": "n02102040", "radio": "n02979186"}, 3)
		want, _ := cliTeach(t, parent, name)
		sum := sha256.Sum256(want)
		if _, err := rt.p.eval(rt.ctx, `window.bagnetTaught = null`); err != nil {
			t.Fatal(err)
		}
		dropFolder(t, rt, "#teach", filepath.Join(parent, name))
		rt.waitFor(t, taughtJS)
		var s teachState
		rt.decode(t, "window.bagnetTaught", &s)
		if s.Err != "" || s.Total != 9 || s.Done != 9 || s.Name != "BagNet taught: mine" {
			t.Fatalf("%s: window.bagnetTaught = %+v, want 9 images taught as \"BagNet taught: mine\"", rt.name, s)
		}
		if s.SHA256 != hex.EncodeToString(sum[:]) || s.Size != len(want) {
			t.Errorf("%s: the page's taught model (%d bytes, sha256 %s) differs from bagnet teach's (%d bytes, sha256 %x)", rt.name, s.Size, s.SHA256, len(want), sum)
		}
		t.Logf("%s: taught a dropped folder of 9 images in %.1f s", rt.name, s.Ms/1000)
	})
}

// cdpPage is a Chromium tab as a remotePage, for the tests all browsers
// share.
type cdpPage struct{ tb *tab }

func (p cdpPage) navigate(ctx context.Context, url string) error {
	p.tb.origin = strings.TrimSuffix(url, "/")
	return chromedp.Do(ctx, chromedp.Navigate(url))
}

func (p cdpPage) eval(ctx context.Context, expr string) (json.RawMessage, error) {
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](jsonJS(expr)))
	return json.RawMessage(s), err
}

func (p cdpPage) setFile(ctx context.Context, sel, path string) error {
	return chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS(sel), []string{path}))
}

func (p cdpPage) screenshot(ctx context.Context) ([]byte, error) {
	return chromedp.Run(ctx, chromedp.FullScreenshot(100))
}

// TestFolderDrop drops a folder on the batch and the teaching panels in
// Chromium (testFolderDrop), shows the drop zone while something is
// dragged over it, and takes a drop of plain files (a real DataTransfer
// with Files): unlabelled images in a folder named "dropped".
func TestFolderDrop(t *testing.T) {
	t.Parallel() // independent tabs (see newTab)
	tb := newTab(t)
	rt := &rtab{ctx: tb.ctx, p: cdpPage{tb}, name: "chromium"}
	testFolderDrop(t, rt)

	// The drop zone shows while something is dragged over it.
	tb.js(`document.querySelector("#batch").dispatchEvent(new Event("dragenter", {bubbles: true, cancelable: true}))`)
	tb.waitFor(`document.querySelector("#batch").classList.contains("dragging") && document.querySelector("#batch").textContent.includes("Drop it here.") ? "yes" : ""`)
	tb.js(`document.querySelector("#batch").dispatchEvent(new Event("dragleave", {bubbles: true}))`)
	tb.waitFor(`!document.querySelector("#batch").classList.contains("dragging") ? "yes" : ""`)

	// Plain files in a real DataTransfer.
	for _, f := range []string{tench, siteSample(t)} {
		b, err := os.ReadFile(filepath.Join(suite.site, "samples", f))
		if f == tench {
			b, err = os.ReadFile(filepath.Join(suite.samples, f))
		}
		if err != nil {
			t.Fatal(err)
		}
		tb.js(fmt.Sprintf(`(window.__files = window.__files || []).push(%s)`, fileJS(b, f)))
	}
	tb.js(`window.bagnetBatch = null; (() => {
		const dt = new DataTransfer();
		for (const f of window.__files) dt.items.add(f);
		document.querySelector("#batch").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
	})()`)
	tb.waitFor(`window.bagnetBatch && !window.bagnetBatch.running ? "yes" : ""`)
	s := windowValue[batchState](tb, "bagnetBatch")
	if s.Total != 2 || s.Done != 2 || s.Errors != 0 {
		t.Errorf("two dropped files: window.bagnetBatch = %+v, want 2 done", s)
	}
	rows, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#batch-table tbody tr")].map(r => r.dataset.verdict + " " + r.querySelector(".file").textContent.trim())`))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || !strings.HasPrefix(rows[0], "no label dropped/") || !strings.HasPrefix(rows[1], "no label dropped/") {
		t.Errorf("rows of two dropped files: %q, want both unlabelled in dropped/", rows)
	}
}
