package browsertest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/bagnetweb/bagnet/engine"
)

// yoursState is window.bagnetYours (ui/yours.go).
type yoursState struct {
	Models []struct {
		Key, Name, File string
		Bytes, Classes  int
		Taught          bool
	} `json:"models"`
	Current string `json:"current"`
	Note    string `json:"note"`
}

// keys are the stored models' keys.
func (s yoursState) keys() []string {
	var k []string
	for _, m := range s.Models {
		k = append(k, m.Key)
	}
	return k
}

// storedJS waits until window.bagnetYours lists key (and, with current,
// has it in use).
func storedJS(key string, current bool) string {
	cond := fmt.Sprintf(`(window.bagnetYours?.models ?? []).some(m => m.key === %q)`, key)
	if current {
		cond += fmt.Sprintf(` && window.bagnetYours.current === %q`, key)
	}
	return cond + ` ? "yes" : ""`
}

// pickJS selects value in the model picker, as a user does.
func pickJS(value string) string {
	return fmt.Sprintf(`(() => {
		const s = document.querySelector("#model-pick");
		s.value = %q;
		s.dispatchEvent(new Event("change", {bubbles: true}));
	})()`, value)
}

// pickerValues are the values of the model picker's "Your models" entries.
func (tb *tab) pickerYours() []string {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("#model-pick-yours option"), o => o.value)`))
	if err != nil {
		tb.t.Fatal(err)
	}
	return v
}

// storedSHA256 is the SHA-256 of the bytes the page keeps in IndexedDB
// under key, computed in the page ("" when there are none).
func (tb *tab) storedSHA256(key string) string {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](fmt.Sprintf(`new Promise((resolve, reject) => {
		const open = indexedDB.open("bagnet-yours");
		open.onerror = () => reject(open.error);
		open.onsuccess = () => {
			const get = open.result.transaction("files").objectStore("files").get(%q);
			get.onerror = () => reject(get.error);
			get.onsuccess = async () => {
				if (!get.result) { resolve(""); return; }
				const d = new Uint8Array(await crypto.subtle.digest("SHA-256", get.result));
				resolve(Array.from(d, b => b.toString(16).padStart(2, "0")).join(""));
			};
		};
	})`, key), chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatal(err)
	}
	return v
}

// classifyLike classifies img in the page and checks the result against
// the native engine with the model file want, bit for bit.
func (tb *tab) classifyLike(what, img string, want []byte) {
	tb.t.Helper()
	if st := tb.classify(upload(img)); st != "done" {
		tb.t.Fatalf("%s: classify: %q; #error %q", what, st, tb.text("#error"))
	}
	got := tb.result()
	eng, err := engine.Load(want)
	if err != nil {
		tb.t.Fatal(err)
	}
	raw, err := os.ReadFile(img)
	if err != nil {
		tb.t.Fatal(err)
	}
	a, err := eng.Classify(raw, len(got.Top))
	if err != nil {
		tb.t.Fatal(err)
	}
	checkResult(tb.t, what, got, a.Result)
}

// TestTeachStored teaches the page a folder; the taught model is kept in
// the browser: after a reload it is in the picker under "Your models",
// picking it classifies exactly as the native engine with 'bagnet teach's
// file, the storage panel counts it, and Delete removes it for good.
func TestTeachStored(t *testing.T) {
	t.Parallel() // independent tabs (see newTab)
	tb := newTab(t)
	parent, name, other := teachFolder(t, map[string]string{"fish": "n01440764", "dog": "n02102040"}, 3)
	want, _ := cliTeach(t, parent, name)
	s := sha256.Sum256(want)
	key := hex.EncodeToString(s[:])
	tb.open(suite.srv.URL)
	if st := windowValue[yoursState](tb, "bagnetYours"); len(st.Models) != 0 {
		t.Fatalf("a fresh browser has stored models: %+v", st)
	}

	if err := chromedp.Do(tb.ctx, chromedp.SetUploadFiles(chromedp.CSS("#teach-folder"), []string{filepath.Join(parent, name)})); err != nil {
		t.Fatal(err)
	}
	tb.waitFor(taughtJS)
	if got := windowValue[teachState](tb, "bagnetTaught"); got.SHA256 != key {
		t.Fatalf("taught %s (%q), want bagnet teach's %s", got.SHA256, got.Err, key)
	}
	tb.waitFor(storedJS(key, true))
	st := windowValue[yoursState](tb, "bagnetYours")
	if len(st.Models) != 1 || !st.Models[0].Taught || st.Models[0].Name != "BagNet taught: mine" || st.Models[0].File != "mine.safetensors" ||
		st.Models[0].Bytes != len(want) || st.Models[0].Classes != 2 {
		t.Errorf("stored %+v, want the taught model (%d bytes, 2 classes)", st, len(want))
	}
	if got := tb.storedSHA256(key); got != key {
		t.Errorf("the stored bytes' SHA-256 %q, want the taught file's %s", got, key)
	}
	if got := tb.pickerYours(); !slices.Equal(got, []string{"yours:" + key}) {
		t.Errorf("picker's Your models %q", got)
	}

	// A reload: the site's model is in use; the taught one is listed.
	if err := chromedp.Do(tb.ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	tb.waitReady()
	tb.waitFor(storedJS(key, false))
	if got := tb.pickerYours(); !slices.Equal(got, []string{"yours:" + key}) {
		t.Fatalf("after a reload, the picker's Your models %q, want the taught model", got)
	}
	if src := tb.text("#model-source"); src != "model.safetensors" {
		t.Errorf("after a reload the model in use is %q", src)
	}
	tb.js(armJS)
	tb.js(pickJS("yours:" + key))
	if st := tb.waitFor(reloadedJS); st != "ready" {
		t.Fatalf("pick the stored model: %q; #error %q", st, tb.text("#error"))
	}
	tb.waitFor(storedJS(key, true))
	if src := tb.text("#model-source"); src != "mine.safetensors" {
		t.Errorf("the stored model's source %q", src)
	}
	sel, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.querySelector("#model-pick").value`))
	if sel != "yours:"+key {
		t.Errorf("the picker shows %q, want the stored model", sel)
	}
	tb.classifyLike("the stored taught model after a reload", other, want)
	tb.classifyLike("the stored taught model, a tench", filepath.Join(suite.samples, tench), want)

	// The storage panel counts it.
	tb.click("#storage summary")
	if txt := tb.waitFor(`document.querySelector("#storage-yours")?.textContent ?? ""`); !strings.Contains(txt, "Your models: 1 model, ") {
		t.Errorf("#storage-yours %q", txt)
	}
	tb.screenshot("teach-stored")

	// Its Download button saves the stored file: bagnet teach's bytes.
	dir := t.TempDir()
	if _, err := chromedp.Call(tb.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
		BrowserContextID: chromedp.FromContext(tb.ctx).BrowserContextID}); err != nil {
		t.Fatal(err)
	}
	tb.js(fmt.Sprintf(`document.querySelector('#yours-list li[data-key=%q] .yours-save').click()`, key))
	var saved []byte
	for deadline := time.Now().Add(stateTimeout); time.Now().Before(deadline) && len(saved) < len(want); time.Sleep(100 * time.Millisecond) {
		saved, _ = os.ReadFile(filepath.Join(dir, "mine.safetensors"))
	}
	if !bytes.Equal(saved, want) {
		t.Errorf("the downloaded stored model (%d bytes) differs from bagnet teach's file (%d bytes)", len(saved), len(want))
	}

	// "Clear the offline copy" keeps it, and says so.
	tb.waitFor(`document.querySelector("#storage-clear")?.disabled === false ? "ok" : ""`)
	tb.js(`document.querySelector("#storage-clear").click()`)
	note := tb.waitFor(`document.querySelector("#storage-note")?.textContent.startsWith("Cleared") ? document.querySelector("#storage-note").textContent : ""`)
	if !strings.Contains(note, "Your models (1 model, ") {
		t.Errorf("after Clear: #storage-note %q, want it to say the model is kept", note)
	}
	if got := tb.storedSHA256(key); got != key {
		t.Errorf("after Clear the stored model's SHA-256 is %q", got)
	}

	// Delete asks first, in place, and No (which takes the focus) keeps it.
	li := fmt.Sprintf(`#yours-list li[data-key=%q]`, key)
	tb.js(fmt.Sprintf(`document.querySelector('%s .yours-delete').click()`, li))
	tb.waitFor(fmt.Sprintf(`document.activeElement?.matches('%s .yours-no') && !document.querySelector('%s .yours-delete') ? "yes" : ""`, li, li))
	if q := tb.text(li + " .yours-confirm"); !strings.Contains(q, "Delete BagNet taught: mine from this browser?") {
		t.Errorf("the question reads %q", q)
	}
	tb.js(fmt.Sprintf(`document.querySelector('%s .yours-no').click()`, li))
	tb.waitFor(fmt.Sprintf(`document.querySelector('%s .yours-delete') && !document.querySelector('%s .yours-confirm') ? "yes" : ""`, li, li))
	time.Sleep(300 * time.Millisecond) // a deletion would have begun
	if st := windowValue[yoursState](tb, "bagnetYours"); !slices.Equal(st.keys(), []string{key}) || tb.storedSHA256(key) != key {
		t.Fatalf("after Delete and No: %+v, want the model kept", st)
	}

	// Delete, Yes: gone from the list, the picker and the browser; the
	// model stays in use as the user's file.
	tb.js(fmt.Sprintf(`document.querySelector('%s .yours-delete').click()`, li))
	tb.waitFor(fmt.Sprintf(`document.querySelector('%s .yours-yes') ? "yes" : ""`, li))
	if st := windowValue[yoursState](tb, "bagnetYours"); len(st.Models) != 1 {
		t.Fatalf("Delete alone deleted: %+v", st)
	}
	tb.js(fmt.Sprintf(`document.querySelector('%s .yours-yes').click()`, li))
	tb.waitFor(`window.bagnetYours?.models.length === 0 ? "yes" : ""`)
	if got := tb.pickerYours(); len(got) != 0 {
		t.Errorf("after Delete, the picker's Your models %q", got)
	}
	if n := tb.text("#yours-note"); !strings.Contains(n, "Deleted BagNet taught: mine") {
		t.Errorf("#yours-note %q", n)
	}
	if got := tb.storedSHA256(key); got != "" {
		t.Errorf("after Delete the browser still holds the file")
	}
	if err := chromedp.Do(tb.ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	tb.waitReady()
	time.Sleep(300 * time.Millisecond) // the list is read at start
	if st := windowValue[yoursState](tb, "bagnetYours"); len(st.Models) != 0 || len(tb.pickerYours()) != 0 {
		t.Errorf("after Delete and a reload: %+v", st)
	}
}

// TestTeachStoredUpdate: a model file the user loads is kept; it survives
// a new version of the site (whose service worker deletes the old
// version's caches) and is picked and classifies exactly, offline.
func TestTeachStoredUpdate(t *testing.T) {
	needBrowser(t)
	parent, name, _ := teachFolder(t, map[string]string{"fish": "n01440764", "dog": "n02102040"}, 2)
	file, _ := cliTeach(t, parent, name)
	path := filepath.Join(t.TempDir(), "two.safetensors")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(file)
	key := hex.EncodeToString(s[:])

	d, v1, srv := newDeployment(t)
	tb := newTab(t)
	tb.open(srv.URL)
	tb.waitControlled()
	if st := tb.loadModel("#model-file", path); st != "ready" {
		t.Fatalf("load the model file: %q; #error %q", st, tb.text("#error"))
	}
	tb.waitFor(storedJS(key, true))
	if st := windowValue[yoursState](tb, "bagnetYours"); st.Models[0].Taught || st.Models[0].File != "two.safetensors" {
		t.Errorf("stored %+v, want the user's file two.safetensors", st)
	}

	// Version 2: installed, then taken over by a reload.
	v2dir := copySite(t, v1)
	v2 := newVersion(t, v2dir, "v2", false)
	d.deploy(v2dir)
	tb.js(`navigator.serviceWorker.getRegistration().then(r => r.update())`)
	tb.waitFor(`document.querySelector("#update")?.textContent.includes("A new version is ready") ? "yes" : ""`)
	tb.js(armJS)
	tb.js(`document.querySelector("#update-reload").click()`)
	tb.waitFor(`window.bagnetBuild === "v2" && document.body.dataset.state === "ready" ? "yes" : ""`)
	caches, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`(async () =>
		(await caches.keys()).filter(k => k.startsWith("bagnet-")).sort().join(" "))()`, chromedp.EvalAwaitPromise))
	if err != nil || caches != "bagnet-"+v2 {
		t.Errorf("after version 2 took over: caches %q (%v), want only bagnet-%s", caches, err, v2)
	}
	tb.waitFor(storedJS(key, false))
	if got := tb.pickerYours(); !slices.Equal(got, []string{"yours:" + key}) {
		t.Errorf("after the update, the picker's Your models %q", got)
	}

	// Offline: the server is gone; the page comes from version 2's cache
	// and the model from IndexedDB.
	srv.Close()
	if err := chromedp.Do(tb.ctx, chromedp.Reload()); err != nil {
		t.Fatalf("reload offline: %v", err)
	}
	tb.waitReady()
	tb.waitFor(storedJS(key, false))
	tb.js(armJS)
	tb.js(pickJS("yours:" + key))
	if st := tb.waitFor(reloadedJS); st != "ready" {
		t.Fatalf("offline, pick the stored model: %q; #error %q", st, tb.text("#error"))
	}
	tb.classifyLike("offline, the stored model after an update", filepath.Join(suite.samples, tench), file)
}
