package ui

import (
	"fmt"
	"math"
	"path"
	"slices"

	"github.com/vugu/vugu"
	"github.com/vugu/vugu/js"

	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/ui/viz"
)

// Page states, published as <body data-state>.
const (
	StateLoading = "loading" // downloading the app, the engine or the weights
	StateReady   = "ready"   // model loaded, nothing classified yet
	StateWorking = "working" // a request is in flight
	StateDone    = "done"    // the last request succeeded
	StateError   = "error"   // the last request (or loading) failed
)

// progressApp is the download of the page's own code (app.wasm), beside
// the worker's (protocol.Progress).
const progressApp = "app"

// TopK is how many classes a result lists.
const TopK = 5

// Root is the whole page.
type Root struct {
	link // the worker's requests, deadlines and restarts (watchdog.go)
	liveLink
	heldEdits   // an occlusion painted while busy (heldedit.go)
	batchRender // a running batch renders at most every BatchRenderEvery (batchrender.go)

	ee     vugu.EventEnv
	worker js.Value
	funcs  []js.Func // released never: they live as long as the page

	State  string
	Status string // one line for screen readers and sighted users
	Err    string

	Progress  map[string]*Progress // by download: progressApp, protocol.ProgressWorker, protocol.ProgressWeights
	Info      *protocol.Info
	Models    []protocol.SiteModel // the site's models, for the picker
	Loaded    int                  // models loaded so far (the storage panel looks again)
	Switching string               // the site model being downloaded, "" when none
	Samples   []Sample

	Cur     *Analysis   // the image being explained
	Scr     *Analysis   // Cur with its tiles shuffled (the scramble experiment)
	Edits   []*Analysis // Cur with grey rectangles painted on, one more per edit (occlusion)
	Sel     int         // selected class
	Opacity float64     // of the evidence overlay, 0..1
	Hover   Cell        // the patch under the pointer or keyboard cursor
	Batch   *Batch      // the folder of images being (or last) classified
	Teach   *Teaching   // the folder being (or last) taught
	Patches *PatchRun   // the batch's most evidential patches (patches.go)
	focus   *patchFocus // the class and patch to show when an image opened from the figure comes
	Taught  *TaughtRun  // what each class of the last teaching learned (taughtpatches.go)

	Yours Yours         // the user's models kept in this browser (yours.go)
	Named *NamedClasses // classes made by name in the page, to teach (namedclasses.go)

	lastSeed  int64
	pics      pictures // the pictures drawn recently, for every analysis (draw.go)
	published string   // last data-state written to the DOM
	reveal    bool     // scroll to the new result after rendering
}

// Sample is one picture of the gallery (samples/index.json).
type Sample struct {
	File  string `json:"file"`
	Thumb string `json:"thumb"`
	Name  string `json:"name"`
	WNID  string `json:"wnid"`
}

// Picture is the sample's gallery image: its thumbnail when there is one.
func (s Sample) Picture() string {
	if s.Thumb != "" {
		return s.Thumb
	}
	return s.File
}

// Init runs once, before the first render: it takes over the worker that
// app.js started and hooks the page-wide inputs.
func (c *Root) Init(ctx vugu.InitCtx) {
	c.ee = ctx.EventEnv()
	c.State = StateLoading
	c.Status = "Loading the model…"
	c.Opacity = 0.8
	c.Sel = -1
	c.Progress = map[string]*Progress{progressApp: {Done: true}, protocol.ProgressWorker: {}, protocol.ProgressWeights: {}}
	if !js.Global().Truthy() {
		return // rendering outside a browser
	}
	boot := js.Global().Get("bagnetBoot")
	if !boot.Truthy() {
		c.fail("The page's boot script did not run.")
		return
	}
	c.worker = boot.Get("worker")
	var site protocol.SiteInfo
	if err := decode(boot.Get("site"), &site); err == nil {
		c.Models = site.Models
	}
	c.listen(boot, site)
	c.hookPaste()
	c.hookWindowDrop()
	go c.readYours()
	if site.Samples != "" {
		go c.loadSamples(site.Samples)
	}
}

// AfterRender publishes the page state once the DOM shows it: tests and
// scripts wait for <body data-state>, and window.bagnetResult is set before
// data-state becomes "done". The render loop (wasm/app) calls it after each
// render (vugu calls Rendered hooks of child components only).
func (c *Root) AfterRender() {
	if !js.Global().Truthy() {
		return
	}
	if c.reveal {
		c.reveal = false
		revealResults()
	}
	if c.published == c.State {
		return
	}
	c.published = c.State
	js.Global().Get("document").Get("body").Get("dataset").Set("state", c.State)
}

// revealResults scrolls the evidence view into sight when a new result
// arrives below the fold (smoothly unless the user prefers less motion),
// and gives its heading the focus when nothing has it.
func revealResults() {
	doc := js.Global().Get("document")
	el := doc.Call("getElementById", "viewer-title")
	if !el.Truthy() {
		return
	}
	// Focus that was lost (its control went away, or the image came by
	// paste or drop) goes to the new result's heading, not to <body>.
	if f := doc.Get("activeElement"); !f.Truthy() || js.Global().Get("Object").Call("is", f, doc.Get("body")).Bool() {
		opts := js.Global().Get("Object").New()
		opts.Set("preventScroll", true)
		el.Call("focus", opts)
	}
	if top := el.Call("getBoundingClientRect").Get("top").Float(); top >= 0 && top < js.Global().Get("innerHeight").Float()*0.6 {
		return // already in view
	}
	opts := js.Global().Get("Object").New()
	opts.Set("block", "start")
	if !js.Global().Call("matchMedia", "(prefers-reduced-motion: reduce)").Get("matches").Bool() {
		opts.Set("behavior", "smooth")
	}
	el.Call("scrollIntoView", opts)
}

// fail shows a problem that stops the app from classifying.
func (c *Root) fail(msg string) {
	c.State, c.Err, c.Status = StateError, msg, msg
}

// Busy reports whether the controls that start work should be disabled.
func (c *Root) Busy() bool {
	return c.State == StateLoading || c.State == StateWorking || c.Info == nil
}

// Loading reports whether the download progress is shown.
func (c *Root) Loading() bool { return c.Info == nil && c.Err == "" }

// ProgressList is the downloads in display order.
func (c *Root) ProgressList() []ProgressRow {
	names := [][2]string{{progressApp, "App"}, {protocol.ProgressWorker, "Inference engine"}, {protocol.ProgressWeights, "Model weights"}}
	rows := make([]ProgressRow, 0, len(names))
	for _, n := range names {
		p := c.Progress[n[0]]
		if p == nil {
			p = &Progress{}
		}
		rows = append(rows, ProgressRow{Key: n[0], Label: n[1], P: *p})
	}
	return rows
}

// ProgressRow is one download bar.
type ProgressRow struct {
	Key, Label string
	P          Progress
}

// Selected is the class whose evidence is shown.
func (c *Root) Selected() int {
	if c.Cur == nil {
		return -1
	}
	if c.Sel >= 0 && c.Sel < len(c.Cur.Result.Logits) {
		return c.Sel
	}
	if len(c.Cur.Result.Top) > 0 {
		return c.Cur.Result.Top[0].Index
	}
	return 0
}

// Classes are the loaded model's classes (none before it loads).
func (c *Root) Classes() []protocol.Class {
	if c.Info == nil {
		return nil
	}
	return c.Info.Classes
}

// OutOfSetName is the name of the gallery sample being explained when its
// WordNet id is none of the model's classes, else "".
func (c *Root) OutOfSetName() string {
	if c.Cur == nil {
		return ""
	}
	in := ImageInput{Classes: c.Classes()}
	for _, s := range c.Samples {
		if path.Base(s.File) == c.Cur.Label && in.OutOfSet(s) {
			return s.Name
		}
	}
	return ""
}

// ClassName names class i of the loaded model.
func (c *Root) ClassName(i int) string {
	if c.Info == nil {
		return fmt.Sprint(i)
	}
	return className(c.Info.Classes, i)
}

// SelMap is the selected class's evidence map for a, nil until it arrives.
func (c *Root) SelMap(a *Analysis) []float32 {
	if a == nil {
		return nil
	}
	return a.Maps[c.Selected()]
}

// SelLimit is the colour range shared by the main view and, when there is
// one, the scrambled view, so that their colours compare.
func (c *Root) SelLimit() float32 {
	return viz.Limit(c.SelMap(c.Cur), c.SelMap(c.Scr))
}

// GridClasses are the classes shown as small-multiple evidence grids: the
// top classes, then the selected class if it is not among them.
func (c *Root) GridClasses() []int {
	if c.Cur == nil {
		return nil
	}
	var cs []int
	for _, p := range c.Cur.Result.Top {
		cs = append(cs, p.Index)
	}
	if s := c.Selected(); !slices.Contains(cs, s) {
		cs = append(cs, s)
	}
	return cs
}

// MeanEvidence of class k in analysis a (NaN when the map is missing).
func MeanEvidence(a *Analysis, k int) float64 {
	if a == nil || a.Maps[k] == nil {
		return math.NaN()
	}
	return viz.Mean(a.Maps[k])
}

// SetOpacity sets the overlay's opacity (0 to 1).
func (c *Root) SetOpacity(v float64) { c.Opacity = math.Max(0, math.Min(1, v)) }

// SetHover moves the patch cursor (clamped to the map).
func (c *Root) SetHover(h Cell) {
	if c.Cur != nil && h.OK {
		h.I = max(0, min(c.Cur.Geo.H-1, h.I))
		h.J = max(0, min(c.Cur.Geo.W-1, h.J))
	}
	c.Hover = h
}

// Select shows class k's evidence, asking the worker for maps not yet here.
func (c *Root) Select(k int) {
	c.Sel = k
	c.ensureMap(c.Cur, k)
	c.ensureMap(c.Scr, k)
	for _, a := range c.Edits {
		c.ensureMap(a, k)
	}
}

// PickModel loads the site model file (downloaded once, with progress;
// the service worker keeps it for offline use).
func (c *Root) PickModel(file string) {
	if c.pickYours(file) {
		return
	}
	for _, m := range c.Models {
		if m.File != file || (c.Info != nil && c.Info.Source == m.File) || c.Busy() {
			continue
		}
		c.Switching = m.Name
		c.Progress[protocol.ProgressWeights] = &Progress{Total: int64(m.Bytes)}
		c.Status = "Downloading " + m.Name + "…"
		id := c.request(m.Name, &protocol.LoadRequest{Header: protocol.Header{Type: protocol.KindLoad}, URL: m.File, Size: m.Bytes}, nil)
		c.reqs.get(id).model = &modelSource{url: m.File, size: m.Bytes, name: m.Name} // a restart fetches it again
	}
}

// SwitchProgress is the picked model's download, for its bar.
func (c *Root) SwitchProgress() Progress {
	if p := c.Progress[protocol.ProgressWeights]; p != nil {
		return *p
	}
	return Progress{}
}

// Edited is the current image with every occlusion so far (Cur itself
// before the first).
func (c *Root) Edited() *Analysis {
	if n := len(c.Edits); n > 0 {
		return c.Edits[n-1]
	}
	return c.Cur
}

// UndoEdit removes the last occlusion.
func (c *Root) UndoEdit() {
	if n := len(c.Edits); n > 0 && !c.Busy() {
		c.Edits = c.Edits[:n-1]
		c.Status = fmt.Sprintf("Undone: %d edits left.", len(c.Edits))
	}
}

// ResetEdits removes every occlusion.
func (c *Root) ResetEdits() {
	if !c.Busy() {
		c.Edits = nil
		c.Status = "Back to the original image."
	}
}

// ShowFatal writes a message into the page when the UI itself cannot run.
func ShowFatal(msg string) {
	if !js.Global().Truthy() {
		return
	}
	doc := js.Global().Get("document")
	doc.Get("body").Get("dataset").Set("state", StateError)
	if e := doc.Call("getElementById", "error"); e.Truthy() {
		e.Set("hidden", false)
		e.Set("textContent", msg)
	}
}
