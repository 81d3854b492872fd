package browsertest

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bagnetweb/bagnet/internal/testfixture"
	"github.com/bagnetweb/bagnet/internal/testimage"
	"github.com/bagnetweb/bagnet/internal/testmodel"
	"github.com/bagnetweb/bagnet/weights/safetensors"
)

// erroredJS gives "error" once the page shows an error naming the file
// name (a refusal by size alone sets data-state=error directly, which
// changes nothing when the previous file failed too), or "ready"/"done"
// once it has been "working" after armJS and settled without one.
func erroredJS(name string) string {
	return fmt.Sprintf(`(() => {
	const s = window.__bt?.states ?? [];
	const last = s[s.length - 1];
	if (document.body.dataset.state === "error" && (document.querySelector("#error")?.textContent ?? "").includes(%q)) return "error";
	return s.includes("working") && (last === "ready" || last === "done") ? last : "";
})()`, name)
}

// Hostile files given to the page, as a user can (the model and image
// inputs): each gets a named error within seconds, the model in use stays,
// and the page classifies exactly as before afterwards. Before the loader's
// checks a NaN head scale showed "NaN%", a model asking for 1024 px input
// ran its warm-up at that size (about a minute natively), and a JPEG of
// 2,000 empty scans at 7000x7000 decoded for minutes.
func TestHostileFiles(t *testing.T) {
	needBrowser(t)
	dir := t.TempDir()
	good := filepath.Join(suite.samples, tench)
	base, err := testmodel.Int8(testmodel.Options{InputSize: 64, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte, size int64) string {
		return testfixture.WriteFile(t, dir, name, b, size)
	}
	tb := newTab(t)
	tb.open(suite.srv.URL)
	source := tb.text("#model-source")
	if st := tb.classify(upload(good)); st != "done" {
		t.Fatalf("classify before: data-state=%q; #error: %q", st, tb.text("#error"))
	}
	before := tb.result()

	for _, tc := range []struct {
		name  string
		file  string
		model bool   // given to the model input, else to the image input
		want  string // in #error
	}{
		{"NaN head scale", write("nan-scale.safetensors", testfixture.Rewrite(t, base, testfixture.Fill("fc.scale", float32(math.NaN()))), 0), true,
			`tensor "fc.scale" holds NaN at element 0 (values must be finite)`},
		{"+Inf head bias", write("inf-bias.safetensors", testfixture.Rewrite(t, base, testfixture.Fill("fc.bias", float32(math.Inf(1)))), 0), true,
			`tensor "fc.bias" holds +Inf`},
		{"1024 px input size", write("big-input.safetensors", testfixture.Rewrite(t, base, func(md map[string]string, ts []*safetensors.Tensor) []*safetensors.Tensor {
			md["input_size"] = "1024"
			return ts
		}), 0), true,
			"the model asks for 1024x1024 px input images, over the 448 px limit"},
		{"a photo named .safetensors", write("photo.safetensors", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"), 0), true,
			"not a BagNet model file: its header is corrupt"},
		{"100 GB sparse model file", write("huge.safetensors", nil, 100<<30), true, "huge.safetensors"},
		{"JPEG of 2000 empty scans at 7000x7000", write("bomb.jpg", testimage.ScanBomb(7000, 7000, 2000), 0), false,
			"JPEG of 7000x7000 pixels is too costly to decode"},
		{"100 GB sparse image", write("huge.jpg", nil, 100<<30), false, "huge.jpg"},
	} {
		t0 := time.Now()
		input := "#file"
		if tc.model {
			input = "#model-file"
		}
		if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](armJS),
			chromedp.SetUploadFiles(chromedp.CSS(input), []string{tc.file})); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		st := tb.waitFor(erroredJS(filepath.Base(tc.file)))
		d := time.Since(t0)
		msg := tb.text("#error")
		switch {
		case st != "error":
			t.Errorf("%s: data-state=%q, want error (#error %q)", tc.name, st, msg)
		case !strings.Contains(msg, tc.want):
			t.Errorf("%s: #error %q, want it to mention %q", tc.name, msg, tc.want)
		case d > 10*time.Second:
			t.Errorf("%s: the error took %v", tc.name, d)
		}
		t.Logf("%s: %v: #error: %s; #status: %s", tc.name, d.Round(time.Millisecond), msg, tb.text("#status"))
		if src := tb.text("#model-source"); src != source {
			t.Errorf("%s: the model card now says %q, want %q still", tc.name, src, source)
		}
	}

	// The page still works, with the same model.
	if st := tb.classify(upload(good)); st != "done" {
		t.Fatalf("classify after hostile files: data-state=%q; #error: %q", st, tb.text("#error"))
	}
	checkResult(t, "the model in use after hostile files", tb.result(), before)
}
