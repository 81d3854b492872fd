package browsertest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// addClassJS types name into the class name field and adds the class.
func addClassJS(name string) string {
	return fmt.Sprintf(`(() => {
		const i = document.querySelector("#teach-class-name");
		i.value = %q;
		i.dispatchEvent(new Event("input", {bubbles: true}));
		document.querySelector("#teach-class-add").click();
	})()`, name)
}

// namedCounts are the classes made by name, "id:count" each, in the
// page's order.
func (tb *tab) namedCounts() string {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](
		`Array.from(document.querySelectorAll("#teach-named-classes li"), l => l.dataset.class + ":" + l.dataset.count).join(" ")`))
	if err != nil {
		tb.t.Fatal(err)
	}
	return v
}

// TestTeachNamed makes classes by name in the page and adds the images of
// a folder to them, class by class, in another order than the folder's;
// the taught model file is byte-identical to 'bagnet teach' on the folder
// (the class ids are the names slugged, a classes.tsv names them, images
// by file name). Bad input (too few classes, an empty class, a duplicate
// name, a file that is not an image) is said, and nothing is lost.
func TestTeachNamed(t *testing.T) {
	t.Parallel() // independent tabs (see newTab)
	tb := newTab(t)
	parent, name, _ := teachFolder(t, map[string]string{"fish": "n01440764", "dog": "n02102040", "radio": "n02979186"}, 4)
	// The names typed in the page are "Fish", "dog" and "Radio set"; the
	// folder that stands for them names its class folders by the ids.
	if err := os.Rename(filepath.Join(parent, name, "radio"), filepath.Join(parent, name, "radio-set")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(parent, name, "classes.tsv"), []byte("fish\tFish\ndog\tdog\nradio-set\tRadio set\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want, _ := cliTeach(t, parent, name)
	sum := sha256.Sum256(want)
	files := func(class string) []string {
		ents, err := os.ReadDir(filepath.Join(parent, name, class))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range ents {
			out = append(out, filepath.Join(parent, name, class, e.Name()))
		}
		return out
	}
	tb.open(suite.srv.URL)
	failed := func(what, wantErr string) {
		t.Helper()
		tb.js(`window.bagnetTaught = null; document.querySelector("#teach-named-go").click()`)
		tb.waitFor(`window.bagnetTaught ? "yes" : ""`)
		if s := windowValue[teachState](tb, "bagnetTaught"); !strings.Contains(s.Err, wantErr) || s.SHA256 != "" {
			t.Errorf("%s: bagnetTaught %+v, want the error %q", what, s, wantErr)
		}
		if e := tb.text("#teach-error"); !strings.Contains(e, wantErr) {
			t.Errorf("%s: #teach-error %q", what, e)
		}
	}
	failed("no classes", "0 classes: teaching needs at least 2")

	tb.js(addClassJS("Fish"))
	tb.js(addClassJS("dog"))
	tb.waitFor(`document.querySelectorAll("#teach-named-classes li").length === 2 ? "yes" : ""`)
	if v, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.querySelector("#teach-class-name").value`)); v != "" {
		t.Errorf("after adding a class, the name field still says %q", v)
	}
	tb.js(addClassJS(" DOG! "))
	if n := tb.waitFor(`document.querySelector("#teach-named-note")?.textContent ?? ""`); !strings.Contains(n, `there is a class "dog" already`) {
		t.Errorf("a duplicate class name: #teach-named-note %q", n)
	}
	if v, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.querySelector("#teach-class-name").value`)); v != " DOG! " {
		t.Errorf("the refused name is gone from the field: %q", v)
	}
	failed("empty classes", `class "Fish" has no images: add at least one`)

	// Fish: the second half first, then the first half (the order added
	// does not matter: images go by file name, as in a folder). A text
	// file is refused and said.
	fish := files("fish")
	note := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(note, []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	upload := func(class string, paths []string) {
		t.Helper()
		if err := chromedp.Do(tb.ctx, chromedp.SetUploadFiles(chromedp.CSS("#teach-files-"+class), paths)); err != nil {
			t.Fatalf("add images to %s: %v", class, err)
		}
	}
	upload("fish", append(slices.Clone(fish[2:]), note))
	tb.waitFor(`document.querySelector('#teach-named-classes li[data-class="fish"]')?.dataset.count === "2" ? "yes" : ""`)
	if n := tb.text("#teach-named-note"); !strings.Contains(n, "notes.txt: not an image file") {
		t.Errorf("a text file: #teach-named-note %q", n)
	}
	upload("fish", fish[:2])
	dog := slices.Clone(files("dog"))
	slices.Reverse(dog)
	upload("dog", dog)
	tb.waitFor(`document.querySelector('#teach-named-classes li[data-class="dog"]')?.dataset.count === "4" ? "yes" : ""`)
	// A file name the class has already: refused (a folder cannot hold two).
	upload("dog", dog[:1])
	tb.waitFor(`document.querySelector("#teach-named-note")?.textContent.includes("the class has a file of that name already") ? "yes" : ""`)

	// A class added and removed again leaves no trace.
	tb.js(addClassJS("Extra"))
	tb.waitFor(`document.querySelector('#teach-named-classes li[data-class="extra"]') ? "yes" : ""`)
	upload("extra", fish[:1])
	tb.waitFor(`document.querySelector('#teach-named-classes li[data-class="extra"]')?.dataset.count === "1" ? "yes" : ""`)
	tb.js(`document.querySelector('#teach-named-classes li[data-class="extra"] .teach-class-remove').click()`)
	tb.waitFor(`document.querySelector('#teach-named-classes li[data-class="extra"]') ? "" : "yes"`)

	tb.js(addClassJS("Radio set"))
	tb.waitFor(`document.querySelector('#teach-named-classes li[data-class="radio-set"]') ? "yes" : ""`)
	upload("radio-set", files("radio-set"))
	tb.waitFor(`document.querySelector('#teach-named-classes li[data-class="radio-set"]')?.dataset.count === "4" ? "yes" : ""`)
	if got := tb.namedCounts(); got != "fish:4 dog:4 radio-set:4" {
		t.Errorf("classes %q, want fish:4 dog:4 radio-set:4", got)
	}
	tb.js(`(() => {
		const i = document.querySelector("#teach-set-name");
		i.value = "mine";
		i.dispatchEvent(new Event("input", {bubbles: true}));
	})()`)

	tb.js(`window.bagnetTaught = null; document.querySelector("#teach-named-go").click()`)
	tb.waitFor(taughtJS)
	s := windowValue[teachState](tb, "bagnetTaught")
	if s.Err != "" || s.Total != 12 || s.Failed != 0 || s.Name != "BagNet taught: mine" || !slices.Equal(s.Classes, []string{"dog", "fish", "radio-set"}) {
		t.Fatalf("window.bagnetTaught = %+v, want 12 images in dog, fish, radio-set taught as \"BagNet taught: mine\"", s)
	}
	if s.SHA256 != hex.EncodeToString(sum[:]) || s.Size != len(want) {
		t.Errorf("the page's model taught by named classes (%d bytes, sha256 %s) differs from bagnet teach's on the folder (%d bytes, sha256 %x)", s.Size, s.SHA256, len(want), sum)
	}
	tb.waitFor(`document.body.textContent.includes("Now using BagNet taught: mine") ? "yes" : ""`)
	// The classes and their images stay, to add more and teach again.
	if got := tb.namedCounts(); got != "fish:4 dog:4 radio-set:4" {
		t.Errorf("after teaching, classes %q", got)
	}
	tb.screenshot("teach-named")
}

// TestTeachNamedCamera adds the fake camera's frames (the tench) to a
// class made by name: they are taught from like files (PNG, named
// camera-001.png, …). Without the camera on, the button says so.
func TestTeachNamedCamera(t *testing.T) {
	needBrowser(t)
	parent, name, _ := teachFolder(t, map[string]string{"dog": "n02102040"}, 2)
	tb := tenchCameraTab(t)
	tb.open(suite.srv.URL)

	tb.js(addClassJS("tench"))
	tb.js(addClassJS("dog"))
	tb.waitFor(`document.querySelectorAll("#teach-named-classes li").length === 2 ? "yes" : ""`)
	frame := `document.querySelector('#teach-named-classes li[data-class="tench"] .teach-class-camera').click()`
	tb.js(frame)
	if n := tb.waitFor(`document.querySelector("#teach-named-note")?.textContent ?? ""`); !strings.Contains(n, "The camera is not on") {
		t.Errorf("camera off: #teach-named-note %q", n)
	}
	tb.js(`[...document.querySelectorAll("button")].find(b => b.textContent.trim() === "Use the camera").click()`)
	tb.waitFor(`document.querySelector(".camera video")?.videoWidth > 0 ? "yes" : ""`)
	tb.js(frame)
	tb.js(frame)
	tb.waitFor(`document.querySelector('#teach-named-classes li[data-class="tench"]')?.dataset.count === "2" ? "yes" : ""`)
	dogs, err := filepath.Glob(filepath.Join(parent, name, "dog", "*"))
	if err != nil || len(dogs) != 2 {
		t.Fatalf("dog images %v %v", dogs, err)
	}
	if err := chromedp.Do(tb.ctx, chromedp.SetUploadFiles(chromedp.CSS("#teach-files-dog"), dogs)); err != nil {
		t.Fatal(err)
	}
	tb.waitFor(`document.querySelector('#teach-named-classes li[data-class="dog"]')?.dataset.count === "2" ? "yes" : ""`)
	tb.js(`window.bagnetTaught = null; document.querySelector("#teach-named-go").click()`)
	tb.waitFor(taughtJS)
	s := windowValue[teachState](tb, "bagnetTaught")
	if s.Err != "" || s.Total != 4 || s.Failed != 0 || !slices.Equal(s.Classes, []string{"dog", "tench"}) || s.Name != "BagNet taught: my-classes" {
		t.Errorf("taught from camera frames: %+v", s)
	}
}
