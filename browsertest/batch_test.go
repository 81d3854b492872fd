package browsertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// batchFolder builds a labelled folder in a temp dir: perClass images of
// each of the given Imagenette val classes, a corrupt image in the first
// class, a folder not named by a class and an image directly in the folder
// (both left out of eval's report). It returns the folder's parent and its
// name.
func batchFolder(t *testing.T, classes []string, perClass int) (parent, name string) {
	t.Helper()
	val := filepath.Join(suite.root, "..", "shared", "data", "imagenette", "val")
	parent, name = t.TempDir(), "photos"
	dir := filepath.Join(parent, name)
	copyImg := func(src, dst string) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Skipf("Imagenette val not available: %v", err)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var first string
	for _, c := range classes {
		ents, err := os.ReadDir(filepath.Join(val, c))
		if err != nil {
			t.Skipf("Imagenette val not available: %v", err)
		}
		for i := 0; i < perClass && i < len(ents); i++ {
			src := filepath.Join(val, c, ents[i].Name())
			copyImg(src, filepath.Join(dir, c, ents[i].Name()))
			if first == "" {
				first = src
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, classes[0], "broken.jpg"), []byte("not a JPEG at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	copyImg(first, filepath.Join(dir, "holiday", "beach.jpg"))
	copyImg(first, filepath.Join(dir, "loose.jpg"))
	return parent, name
}

// cliEval runs 'bagnet eval -json NAME' in parent with the site's model:
// the reference the page's saved report must equal byte for byte.
func cliEval(t *testing.T, parent, name string) []byte {
	t.Helper()
	bin, model := cliWithModel(t)
	return runFolderCommand(t, parent, bin, "eval", "-json", "-weights", model, name)
}

// runFolderCommand runs 'bagnet ARGS' (bin) in dir and returns its
// standard output; exit status 1 (some images failed, as in batchFolder's
// folders) is not an error.
func runFolderCommand(t *testing.T, dir, bin string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
		t.Fatalf("bagnet %s: %v\n%s", args[0], err, stderr.Bytes())
	}
	return stdout.Bytes()
}

// batchState is window.bagnetBatch (ui/batch.go).
type batchState struct {
	Total     int     `json:"total"`
	Done      int     `json:"done"`
	Running   bool    `json:"running"`
	Cancelled bool    `json:"cancelled"`
	Rate      float64 `json:"rate"`
	Errors    int     `json:"errors"`
	Report    string  `json:"report"`
	Thumbs    int     `json:"thumbs"`
	ThumbMax  int     `json:"thumbMax"`
	ThumbSum  int     `json:"thumbSum"`
	WorkMs    float64 `json:"workMs"`
	ElapsedMs float64 `json:"elapsedMs"`
}

// chooseFolder chooses the folder dir in the page's folder input
// (DevTools DOM.setFileInputFiles with the directory's path, which gives
// each File its webkitRelativePath), starting a batch.
func (tb *tab) chooseFolder(dir string) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.SetUploadFiles(chromedp.CSS("#folder"), []string{dir})); err != nil {
		tb.t.Fatalf("choose the folder %s: %v", dir, err)
	}
}

// TestBatchFolder chooses a labelled folder through the folder input
// (DevTools DOM.setFileInputFiles with the directory's path, which gives
// each File its webkitRelativePath), waits for all its images, and checks
// the page's report against 'bagnet eval -json' on the same folder, byte
// for byte, and the table's rows.
func TestBatchFolder(t *testing.T) {
	t.Parallel() // independent tabs (see newTab)
	tb := newTab(t)
	parent, name := batchFolder(t, []string{"n01440764", "n02102040", "n02979186"}, 3)
	want := cliEval(t, parent, name)
	if !bytes.Contains(want, []byte(`"images":9,"errors":1,`)) || !bytes.Contains(want, []byte(`"skipped":["holiday"]`)) {
		t.Fatalf("bagnet eval -json: %s, want 9 images, 1 error, holiday skipped", want)
	}
	tb.open(suite.srv.URL)
	tb.chooseFolder(filepath.Join(parent, name))
	tb.waitFor(`window.bagnetBatch && !window.bagnetBatch.running ? "yes" : ""`)
	s := windowValue[batchState](tb, "bagnetBatch")
	// 3x3 labelled images, the corrupt one, holiday/beach.jpg and loose.jpg.
	if s.Total != 12 || s.Done != 12 || s.Errors != 1 || s.Cancelled {
		t.Errorf("window.bagnetBatch = %+v, want 12 of 12 done, 1 error", s)
	}
	if s.Report != string(want) {
		t.Errorf("the page's report differs from bagnet eval -json:\npage %s\ncli  %s", s.Report, want)
	}
	t.Logf("batch: %d images at %.2f images/s", s.Done, s.Rate)
	rows, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#batch-table tbody tr").length`))
	if err != nil || rows != 12 {
		t.Errorf("results table: %d rows (%v), want 12", rows, err)
	}
	errRow := tb.text(`#batch-table tr[data-verdict="error"]`)
	if !bytes.Contains([]byte(errRow), []byte("photos/n01440764/broken.jpg")) || !bytes.Contains([]byte(errRow), []byte("error: ")) {
		t.Errorf("error row = %q, want broken.jpg with its error", errRow)
	}
	if n := tb.text("#batch-confusion tbody"); n == "" {
		t.Errorf("no confusion table")
	}
	// "only errors" leaves the one error row.
	if err := chromedp.Do(tb.ctx, chromedp.SetValue(chromedp.CSS("#batch-filter"), "error"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#batch-filter").dispatchEvent(new Event("change", {bubbles: true}))`)); err != nil {
		t.Fatal(err)
	}
	tb.waitFor(`document.querySelectorAll("#batch-table tbody tr").length === 1 ? "yes" : ""`)
	// Sorting by probability keeps all rows, highest first.
	if err := chromedp.Do(tb.ctx, chromedp.SetValue(chromedp.CSS("#batch-filter"), "all"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#batch-filter").dispatchEvent(new Event("change", {bubbles: true}))`),
		chromedp.SetValue(chromedp.CSS("#batch-sort"), "prob"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#batch-sort").dispatchEvent(new Event("change", {bubbles: true}))`)); err != nil {
		t.Fatal(err)
	}
	tb.waitFor(`document.querySelectorAll("#batch-table tbody tr").length === 12 && document.querySelector("#batch-table tbody tr:last-child").dataset.verdict === "error" ? "yes" : ""`)
	tb.screenshot("batch")
	tb.screenshotOf("#batch", "doc-batch")
}

// TestBatchCancel starts a bigger folder and cancels it midway: the run
// stops, and no image is classified after that.
func TestBatchCancel(t *testing.T) {
	t.Parallel() // independent tabs (see newTab)
	tb := newTab(t)
	parent, name := batchFolder(t, []string{"n01440764", "n02102040", "n02979186", "n03000684"}, 10)
	tb.open(suite.srv.URL)
	tb.chooseFolder(filepath.Join(parent, name))
	tb.waitFor(`window.bagnetBatch && window.bagnetBatch.done >= 2 ? "yes" : ""`)
	if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.CSS("#batch-cancel"))); err != nil {
		t.Fatalf("click Cancel: %v", err)
	}
	tb.waitFor(`window.bagnetBatch && !window.bagnetBatch.running ? "yes" : ""`)
	s := windowValue[batchState](tb, "bagnetBatch")
	if !s.Cancelled || s.Done >= s.Total || s.Total != 43 || s.Report != "" {
		t.Fatalf("after Cancel: %+v, want cancelled midway of 43, no report", s)
	}
	time.Sleep(2 * time.Second) // the image in flight comes back; nothing more is sent
	if s2 := windowValue[batchState](tb, "bagnetBatch"); s2.Done != s.Done {
		t.Errorf("images done went from %d to %d after Cancel", s.Done, s2.Done)
	}
	if st := tb.text("#batch-count"); st != strconv.Itoa(s.Done)+" / 43" {
		t.Errorf("#batch-count = %q, want %s", st, fmt.Sprintf("%d / 43", s.Done))
	}
}

// windowValue reads the page's window[name] (the zero T when it is null:
// not set yet).
func windowValue[T any](tb *tab, name string) T {
	tb.t.Helper()
	var v T
	raw, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]byte](`window.`+name+` ?? null`))
	if err != nil {
		tb.t.Fatalf("read window.%s: %v", name, err)
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.t.Fatalf("window.%s: %v\n%s", name, err, raw)
	}
	return v
}

// cliWithModel builds the CLI, bagnet, into the test's temporary folder and
// returns its path and the absolute path of the site's model file: the
// native reference of the page's batch and teaching.
func cliWithModel(t *testing.T) (bin, model string) {
	t.Helper()
	bin = filepath.Join(t.TempDir(), "bagnet")
	build := exec.Command("go", "build", "-o", bin, "./cmd/bagnet")
	build.Dir = suite.root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build bagnet: %v\n%s", err, out)
	}
	model, err := filepath.Abs(suite.model)
	if err != nil {
		t.Fatal(err)
	}
	return bin, model
}
