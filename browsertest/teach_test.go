package browsertest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bagnetweb/bagnet/engine"
)

// teachFolder builds a folder to teach in a temp dir: perClass Imagenette
// train images of each class, under new class names (map: name -> WordNet
// folder). It returns the folder's parent, its name and one image of the
// first class not in the folder (to classify after teaching).
func teachFolder(t *testing.T, classes map[string]string, perClass int) (parent, name, other string) {
	t.Helper()
	train := filepath.Join(suite.root, "..", "shared", "data", "imagenette", "train")
	parent, name = t.TempDir(), "mine"
	for cls, wnid := range classes {
		ents, err := os.ReadDir(filepath.Join(train, wnid))
		if err != nil || len(ents) <= perClass {
			t.Skipf("Imagenette train not available: %v", err)
		}
		if err := os.MkdirAll(filepath.Join(parent, name, cls), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < perClass; i++ {
			b, err := os.ReadFile(filepath.Join(train, wnid, ents[i].Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(parent, name, cls, ents[i].Name()), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if cls == "dog" {
			other = filepath.Join(train, wnid, ents[perClass].Name())
		}
	}
	return parent, name, other
}

// cliTeach runs 'bagnet teach -o FILE NAME' in parent with the site's
// model and returns the file's bytes and how long the command took.
func cliTeach(t *testing.T, parent, name string) ([]byte, time.Duration) {
	t.Helper()
	bin, model := cliWithModel(t)
	out := filepath.Join(t.TempDir(), "taught.safetensors")
	cmd := exec.Command(bin, "teach", "-weights", model, "-o", out, name)
	cmd.Dir = parent
	t0 := time.Now()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bagnet teach: %v\n%s", err, b)
	} else {
		t.Logf("bagnet teach: %s", bytes.TrimSpace(b))
	}
	d := time.Since(t0)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b, d
}

// taughtJS waits for teaching to end: "error" when it failed, "yes" once
// the model is taught, in use, and its images have gone through it (what
// each class learned, ui/taughtpatches.go), so that the page is idle.
const taughtJS = `(t => !t ? "" : t.error ? "error" : t.sha256 && (t.learned === "done" || t.learned === "cancelled") ? "yes" : "")(window.bagnetTaught)`

// teachState is window.bagnetTaught (ui/teach.go).
type teachState struct {
	Total    int      `json:"total"`
	Done     int      `json:"done"`
	Failed   int      `json:"failed"`
	Running  bool     `json:"running"`
	Err      string   `json:"error"`
	Name     string   `json:"name"`
	Classes  []string `json:"classes"`
	SHA256   string   `json:"sha256"`
	Size     int      `json:"size"`
	Folds    int      `json:"folds"`
	Correct  int      `json:"correct"`
	Images   int      `json:"images"`
	PerClass []struct {
		Images, Correct int
	} `json:"perClass"`
	Ms      float64 `json:"ms"`
	TrainMs float64 `json:"trainMs"`
	Learned string  `json:"learned"`
	PrepMs  float64 `json:"prepMs"`
	PassMs  float64 `json:"passMs"`
	Helped  int     `json:"helped"`
}

// TestTeachFolder teaches the page 3 new classes from a chosen folder and
// checks the taught model file against 'bagnet teach' on the same folder,
// byte for byte (by SHA-256 and size), then that the page now classifies
// with the taught classes exactly as the native engine does with the
// command's file. A folder with one class first gives a clear message and
// leaves the model in use.
func TestTeachFolder(t *testing.T) {
	t.Parallel() // independent tabs (see newTab)
	tb := newTab(t)
	parent, name, other := teachFolder(t, map[string]string{"fish": "n01440764", "dog": "n02102040", "radio": "n02979186"}, 4)
	want, cliTime := cliTeach(t, parent, name)
	sum := sha256.Sum256(want)
	tb.open(suite.srv.URL)
	if p := tb.text("#teach-prior"); !strings.Contains(p, "carries a feature prior") {
		t.Errorf("#teach-prior = %q: the shipped model carries a feature prior and the panel should say so", p)
	}

	// Bad input: one class folder.
	one := filepath.Join(t.TempDir(), "single")
	if err := os.CopyFS(filepath.Join(one, "fish"), os.DirFS(filepath.Join(parent, name, "fish"))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tb.ctx, chromedp.SetUploadFiles(chromedp.CSS("#teach-folder"), []string{one})); err != nil {
		t.Fatalf("choose the folder: %v", err)
	}
	tb.waitFor(`window.bagnetTaught && window.bagnetTaught.error ? "yes" : ""`)
	if s := windowValue[teachState](tb, "bagnetTaught"); !strings.Contains(s.Err, "single: has 1 class folders: teaching needs at least 2") {
		t.Errorf("one class: error %q, want it to say 1 class folder, at least 2", s.Err)
	}
	if e := tb.text("#error"); !strings.Contains(e, "teaching needs at least 2") {
		t.Errorf("#error = %q, want the reason", e)
	}
	if !strings.Contains(tb.text("#teach-error"), "at least 2") {
		t.Errorf("#teach-error = %q", tb.text("#teach-error"))
	}

	// Bad input: a class none of whose images decodes.
	bad := filepath.Join(t.TempDir(), "broken")
	if err := os.CopyFS(filepath.Join(bad, "fish"), os.DirFS(filepath.Join(parent, name, "fish"))); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(bad, "junk"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"a.jpg", "b.png"} {
		if err := os.WriteFile(filepath.Join(bad, "junk", f), []byte("not an image"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](`window.bagnetTaught = null`), chromedp.SetUploadFiles(chromedp.CSS("#teach-folder"), []string{bad})); err != nil {
		t.Fatalf("choose the folder: %v", err)
	}
	tb.waitFor(`window.bagnetTaught && window.bagnetTaught.error ? "yes" : ""`)
	if s := windowValue[teachState](tb, "bagnetTaught"); !strings.Contains(s.Err, "broken/junk: no usable image: all 2 failed") || s.Failed != 2 || s.Done != 6 || s.SHA256 != "" {
		t.Errorf("a class of broken images: %+v, want 2 of 6 failed and the class named", s)
	}
	if n := tb.text("#teach-failed"); !strings.Contains(n, "broken/junk/a.jpg: ") {
		t.Errorf("#teach-failed = %q, want the broken images listed", n)
	}

	// The real folder (its state replaces the failed one's).
	t0 := time.Now()
	if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](`window.bagnetTaught = null`), chromedp.SetUploadFiles(chromedp.CSS("#teach-folder"), []string{filepath.Join(parent, name)})); err != nil {
		t.Fatalf("choose the folder: %v", err)
	}
	tb.waitFor(taughtJS)
	pageTime := time.Since(t0)
	s := windowValue[teachState](tb, "bagnetTaught")
	if s.Err != "" || s.Total != 12 || s.Done != 12 || s.Failed != 0 || s.Name != "BagNet taught: mine" {
		t.Fatalf("window.bagnetTaught = %+v, want 12 images taught as \"BagNet taught: mine\"", s)
	}
	if s.SHA256 != hex.EncodeToString(sum[:]) || s.Size != len(want) {
		t.Errorf("the page's taught model (%d bytes, sha256 %s) differs from bagnet teach's (%d bytes, sha256 %x)", s.Size, s.SHA256, len(want), sum)
	}
	if s.Folds != 5 || s.Images != 12 || len(s.PerClass) != 3 {
		t.Errorf("held-out accuracy: %+v, want 5 folds over 12 images, 3 classes", s)
	}
	t.Logf("teaching 12 images: page %.2f s (in the page %.2f s, of it training %.2f s), bagnet teach %.2f s (whole command); held-out %d/%d",
		pageTime.Seconds(), s.Ms/1000, s.TrainMs/1000, cliTime.Seconds(), s.Correct, s.Images)
	if txt := tb.text("#teach-accuracy"); !strings.Contains(txt, "5-fold held-out accuracy") {
		t.Errorf("#teach-accuracy = %q", txt)
	}
	if rows := tb.text("#teach-classes tbody"); !strings.Contains(rows, "dog") || !strings.Contains(rows, "radio") {
		t.Errorf("#teach-classes = %q", rows)
	}
	// The taught model becomes the model in use.
	tb.waitFor(`document.body.textContent.includes("Now using BagNet taught: mine") ? "yes" : ""`)
	if tb.text("#teach-save") == "" {
		t.Errorf("no download button")
	}

	// The page classifies with the taught classes, as the native engine
	// does with the command's file.
	if st := tb.classify(upload(other)); st != "done" {
		t.Fatalf("classify after teaching: %q; #error %q", st, tb.text("#error"))
	}
	got := tb.result()
	eng, err := engine.Load(want)
	if err != nil {
		t.Fatal(err)
	}
	img, err := os.ReadFile(other)
	if err != nil {
		t.Fatal(err)
	}
	a, err := eng.Classify(img, len(got.Top))
	if err != nil {
		t.Fatal(err)
	}
	nat := a.Result
	if got.Model != "BagNet taught: mine" || len(got.Logits) != 3 || len(nat.Logits) != 3 {
		t.Fatalf("page result: model %q, %d logits; want the taught model's 3", got.Model, len(got.Logits))
	}
	for i := range got.Logits {
		if math.Float32bits(got.Logits[i]) != math.Float32bits(nat.Logits[i]) {
			t.Errorf("logit %d: page %v, native %v", i, got.Logits[i], nat.Logits[i])
		}
	}
	if got.Top[0].Name != nat.Top[0].Name {
		t.Errorf("top-1: page %q, native %q", got.Top[0].Name, nat.Top[0].Name)
	}
	t.Logf("a held-back dog image: page top-1 %q", got.Top[0].Name)
	tb.screenshot("teach")
	tb.screenshotOf("#teach", "doc-teach")
}
