package ui

import (
	"encoding/json"
	"fmt"
	"image"
	"path"

	"github.com/vugu/vugu/js"

	"github.com/bagnetweb/bagnet/patchset"
	"github.com/bagnetweb/bagnet/protocol"
)

// The paper's figure for a folder: while a batch runs, the worker sends
// with each image's result its candidate patches of every class (a few
// cells each, never its maps), and the page keeps, per class, the lists
// of most evidential patches 'bagnet patches' makes (package patchset: the
// same code, so the same lists). Once the batch is over, the figure shows
// the lists of the chosen class; the pictures of their patches come from
// the worker, which reads the image files again (the batch's items keep
// their File handles, not their pixels).

// PatchRun is a batch's most evidential patches.
type PatchRun struct {
	Col      *patchset.Collection
	Class    int  // the class shown (model index)
	Done     bool // the batch is over: the lists are final
	Err      string
	batch    *Batch
	classes  []protocol.Class
	bad      map[string]string      // images whose candidates could not be used, with why
	tiles    map[string]*image.RGBA // patch pictures by tileKey
	failed   map[string]string      // images whose pictures could not be made, with why
	ids      map[int]int            // crop requests in flight -> index into asks
	pngs     map[int]string         // PNG requests in flight -> the file's name
	asks     [][]*patchset.Hit      // the hits of one image each crop request asks for
	prev     string                 // the page state before the pictures were asked for
	rep      *patchset.Report       // Report(Class), cached
	repClass int
}

// maxTiles bounds the patch pictures kept (96x96 RGBA each: 36 KiB).
const maxTiles = 400

func tileKey(h *patchset.Hit) string { return fmt.Sprintf("%s|%d,%d", h.Image, h.Cell[0], h.Cell[1]) }

// scanned reports whether item it is among the images the lists cover:
// 'bagnet patches' takes the images of the class folders when the folder
// has some, else every image.
func (p *PatchRun) scanned(it *BatchItem) bool {
	return !p.Col.Labelled || it.Row >= 0
}

// startPatches begins the lists for batch b.
func (c *Root) startPatches(b *Batch) {
	c.Patches = newPatchRun(b, c.Info.Classes)
	c.publishPatches()
}

// newPatchRun begins the lists of every class of a model (classes) over
// the images of b (their File handles: the items' own).
func newPatchRun(b *Batch, classes []protocol.Class) *PatchRun {
	p := &PatchRun{batch: b, classes: classes, bad: map[string]string{},
		tiles: map[string]*image.RGBA{}, failed: map[string]string{}, ids: map[int]int{}, pngs: map[int]string{}}
	p.Col = patchset.NewCollection(len(classes), patchset.DefaultN, patchset.DefaultPerImage, len(b.Classes) > 0)
	if len(b.Classes) > 0 {
		p.Class = b.Classes[0].Index
	}
	return p
}

// patchesAdd offers item i's candidates (r: its result) to the lists.
func (c *Root) patchesAdd(i int, r *protocol.ResultReply) {
	p := c.Patches
	if p == nil || p.batch != c.Batch || c.Info == nil {
		return
	}
	p.add(i, r, c.Info)
}

// add offers the candidates of item i of the run's batch (r: its result
// with the model info) to the lists.
func (p *PatchRun) add(i int, r *protocol.ResultReply, info *protocol.Info) {
	it := p.batch.Items[i]
	if !p.scanned(it) {
		return
	}
	im := &patchset.Image{Path: it.Path, Label: -1, Transform: r.Meta.Transform}
	if p.Col.Labelled {
		cl := p.batch.Classes[it.Row]
		im.Label, im.LabelID, im.LabelName = cl.Index, cl.ID, cl.Name
	}
	g := patchset.Geometry{MapW: r.Meta.Result.Map.W, Stride: info.Stride, Patch: info.Patch}
	if err := p.Col.Add(im, g, r.Meta.Result.Map.H*r.Meta.Result.Map.W, r.Patches); err != nil {
		p.bad[it.Path] = err.Error()
		js.Global().Get("console").Call("warn", "patches: "+err.Error())
	}
	p.rep = nil
}

// patchesFinished: the batch is over; the figure shows its class.
func (c *Root) patchesFinished() {
	p := c.Patches
	if p == nil || p.batch != c.Batch {
		return
	}
	p.Done = true
	c.ShowPatchClass(p.Class)
}

// file is the File of the batch's image img (its item keeps the handle:
// the browser reads it when asked), undefined when it is not at hand.
func (p *PatchRun) file(img string) js.Value {
	if it := p.batch.Item(img); it != nil && it.file.Truthy() {
		return it.file
	}
	return js.Undefined()
}

// Report is class k's lists over the images done so far, as 'bagnet
// patches -json' reports them.
func (p *PatchRun) Report(k int) *patchset.Report {
	if p.rep != nil && p.repClass == k {
		return p.rep
	}
	l := p.Col.Lists(k)
	if l == nil {
		return nil
	}
	b := p.batch
	cl := p.classes[k]
	rep := &patchset.Report{Model: b.Model, Class: patchset.ClassRef{Index: k, ID: cl.ID, Name: cl.Name}, Labelled: p.Col.Labelled}
	for _, it := range b.Items {
		if !it.Done || !p.scanned(it) {
			continue
		}
		if it.Err != "" || p.bad[it.Path] != "" {
			rep.Errors++
		} else {
			rep.Images++
		}
	}
	rep.SetLists(l.Sorted())
	p.rep, p.repClass = rep, k
	return rep
}

// Tile is the picture of h's patch, nil until it has come.
func (p *PatchRun) Tile(h *patchset.Hit) *image.RGBA { return p.tiles[tileKey(h)] }

// Pending is how many crop requests are in flight.
func (p *PatchRun) Pending() int { return len(p.ids) }

// ShowPatchClass shows class k's lists and asks the worker for the
// pictures of their patches that are not here yet.
func (c *Root) ShowPatchClass(k int) {
	p := c.Patches
	if p == nil || k < 0 || k >= len(p.classes) {
		return
	}
	p.Class = k
	if !p.Done {
		c.publishPatches()
		return
	}
	l := p.Report(k).Lists()
	c.askTiles(p, l[:]...)
}

// askTiles asks the worker for the pictures of the hits of lists (of run
// p) that are not here yet, one request per image.
func (c *Root) askTiles(p *PatchRun, lists ...[]*patchset.Hit) {
	if len(p.tiles) > maxTiles {
		p.tiles = map[string]*image.RGBA{}
	}
	byImage := map[string][]*patchset.Hit{}
	var order []string
	for _, l := range lists {
		for _, h := range l {
			if p.tiles[tileKey(h)] != nil || p.failed[h.Image] != "" || p.asked(h) {
				continue
			}
			if byImage[h.Image] == nil {
				order = append(order, h.Image)
			}
			byImage[h.Image] = append(byImage[h.Image], h)
		}
	}
	if len(order) > 0 && len(p.ids) == 0 {
		p.prev = c.State
	}
	for _, img := range order {
		f := p.file(img)
		if !f.Truthy() {
			p.failed[img] = "the file is no longer at hand"
			continue
		}
		hits := byImage[img]
		a := len(p.asks)
		p.asks = append(p.asks, hits)
		msg := &protocol.CropsRequest{Header: protocol.Header{Type: protocol.KindCrops}, Tile: patchset.DefaultTile}
		for _, h := range hits {
			msg.Boxes = append(msg.Boxes, h.Box)
		}
		c.sendFile(f, img, msg, p.ids, a,
			func() bool { return c.patchRunShown(p) },
			func(reason string) { p.failed[img] = reason; c.publishPatchRun(p) }, nil)
	}
	c.publishPatchRun(p)
}

// patchRuns are the patch lists on the page: the batch's figure and what
// each taught class learned (taughtpatches.go).
func (c *Root) patchRuns() []*PatchRun {
	var out []*PatchRun
	if c.Patches != nil {
		out = append(out, c.Patches)
	}
	if r := c.Taught; r != nil && r.P != nil {
		out = append(out, r.P)
	}
	return out
}

// patchRunShown reports whether run p is still on the page.
func (c *Root) patchRunShown(p *PatchRun) bool {
	for _, q := range c.patchRuns() {
		if q == p {
			return true
		}
	}
	return false
}

// publishPatchRun publishes run p's state for scripts and tests.
func (c *Root) publishPatchRun(p *PatchRun) {
	if p == c.Patches {
		c.publishPatches()
	}
	if r := c.Taught; r != nil && r.P == p {
		c.publishTaught()
	}
}

// asked reports whether a crop request in flight asks for h's picture.
func (p *PatchRun) asked(h *patchset.Hit) bool {
	for _, a := range p.ids {
		for _, x := range p.asks[a] {
			if tileKey(x) == tileKey(h) {
				return true
			}
		}
	}
	return false
}

// cropsAnswer takes the worker's answer to a crop request (failed: an
// error with errMsg); it reports false when id is not one.
func (c *Root) cropsAnswer(id int, raw []byte, m js.Value, failed bool, errMsg string) bool {
	var p *PatchRun
	a, ok := 0, false
	for _, q := range c.patchRuns() {
		if a, ok = c.claim(q.ids, id); ok {
			p = q
			break
		}
	}
	if !ok {
		return false
	}
	hits := p.asks[a]
	p.asks[a] = nil
	var r protocol.CropsReply
	if !failed {
		if err := json.Unmarshal(raw, &r); err != nil {
			failed, errMsg = true, "unreadable answer: "+err.Error()
		}
	}
	var pix []byte
	if !failed {
		arr := m.Get(protocol.FieldCrops)
		if arr.Type() == js.TypeObject {
			pix = make([]byte, arr.Get("length").Int())
			js.CopyBytesToGo(pix, arr)
		}
		if n := r.Tile * r.Tile * 4; r.Count != len(hits) || r.Tile <= 0 || len(pix) != r.Count*n {
			failed, errMsg = true, fmt.Sprintf("%d pictures of %d pixels (%d bytes) for %d patches", r.Count, r.Tile, len(pix), len(hits))
		}
	}
	if failed {
		if len(hits) > 0 {
			p.failed[hits[0].Image] = errMsg
		}
	} else {
		n := r.Tile * r.Tile * 4
		for k, h := range hits {
			t := image.NewRGBA(image.Rect(0, 0, r.Tile, r.Tile))
			copy(t.Pix, pix[k*n:(k+1)*n])
			p.tiles[tileKey(h)] = t
		}
	}
	if len(p.ids) == 0 && len(c.queue) == 0 && c.State == StateWorking && (c.Batch == nil || !c.Batch.Running) && !c.TaughtRunning() {
		if p.prev == StateWorking || p.prev == StateError || p.prev == "" {
			p.prev = StateReady
		}
		c.State = p.prev
	}
	c.publishPatchRun(p)
	return true
}

// OpenPatch opens h's image in the full analysis, as choosing its file
// does, showing the figure's class with h's patch outlined.
func (c *Root) OpenPatch(h *patchset.Hit) {
	if p := c.Patches; p != nil {
		c.openPatch(p, p.Class, h)
	}
}

// openPatch opens the image of run p's hit h in the full analysis,
// showing class k with h's patch outlined.
func (c *Root) openPatch(p *PatchRun, k int, h *patchset.Hit) {
	if h == nil {
		return
	}
	f := p.file(h.Image)
	if !f.Truthy() || c.InputBusy() {
		c.Status = "Please wait for the current work to finish."
		return
	}
	c.focus = &patchFocus{label: fileLabel(f), class: k, cell: Cell{I: h.Cell[0], J: h.Cell[1], OK: true}}
	c.openFile(f)
}

// patchFocus is what to show once an image opened from the figure is
// classified: its class and patch.
type patchFocus struct {
	label string
	class int
	cell  Cell
}

// focusOpened shows the class and patch of the image the figure opened,
// when a is that image's analysis.
func (c *Root) focusOpened(a *Analysis) {
	f := c.focus
	c.focus = nil
	if f == nil || a.Label != f.label || f.class >= len(a.Result.Logits) {
		return
	}
	c.Sel = f.class
	c.SetHover(f.cell)
}

// Figure is the figure of the shown class as 'bagnet patches -o' draws it
// (the same pixels when every picture has come; a missing one is black).
func (p *PatchRun) Figure() (*image.RGBA, error) {
	rep := p.Report(p.Class)
	if rep == nil {
		return nil, fmt.Errorf("no lists")
	}
	for _, l := range rep.Lists() {
		for _, h := range l {
			if t := p.tiles[tileKey(h)]; t != nil {
				h.Tile = t
			} else {
				h.Tile = image.NewRGBA(image.Rect(0, 0, patchset.DefaultTile, patchset.DefaultTile))
			}
		}
	}
	return patchset.Figure(rep, p.batch.Folder, patchset.DefaultN, patchset.DefaultPerImage, patchset.DefaultTile, path.Base), nil
}

// ExportPatches saves the figure of the shown class as a PNG: the page
// draws it, the worker encodes it (the page links no PNG encoder), byte
// for byte the file 'bagnet patches -o' writes.
func (c *Root) ExportPatches() {
	p := c.Patches
	if p == nil || !p.Done {
		return
	}
	fig, err := p.Figure()
	if err != nil {
		c.Status = err.Error()
		return
	}
	name := fmt.Sprintf("%s-patches-%s.png", p.batch.Folder, p.classes[p.Class].ID)
	id := c.reqs.add(protocol.KindPNG, name)
	msg := message(&protocol.PNGRequest{Header: protocol.Header{Type: protocol.KindPNG, ID: &id}, W: fig.Rect.Dx(), H: fig.Rect.Dy()})
	arr := js.Global().Get("Uint8Array").New(len(fig.Pix))
	js.CopyBytesToJS(arr, fig.Pix)
	setJS(msg, protocol.FieldInput, arr)
	p.pngs[id] = name
	c.send(outgoing{id: id, kind: protocol.KindPNG, msg: msg, transfer: js.Global().Get("Array").Call("of", arr.Get("buffer"))})
	c.Status = "Saving " + name + "…"
}

// pngAnswer takes the worker's PNG file of an exported figure and saves
// it (failed: an error with errMsg); it reports false when id is not one.
func (c *Root) pngAnswer(id int, m js.Value, failed bool, errMsg string) bool {
	p := c.Patches
	if p == nil {
		return false
	}
	name, ok := p.pngs[id]
	if !ok {
		return false
	}
	delete(p.pngs, id)
	c.forget(id)
	file := m.Get(protocol.FieldBytes)
	switch {
	case failed:
		c.Status = "Could not save " + name + ": " + errMsg
	case file.Type() != js.TypeObject:
		c.Status = "Could not save " + name + ": the worker sent no file"
	default:
		opts := js.Global().Get("Object").New()
		opts.Set("type", "image/png")
		save(js.Global().Get("Blob").New(js.Global().Get("Array").Call("of", file), opts), name)
		c.Status = "Saved " + name + "."
	}
	// Sent after other work, it found the page working: the page is idle again.
	if len(c.queue) == 0 && len(p.ids) == 0 && c.State == StateWorking && (c.Batch == nil || !c.Batch.Running) {
		c.State = StateReady
		if c.Cur != nil {
			c.State = StateDone
		}
	}
	return true
}

// patchesState is window.bagnetPatches, for scripts and tests.
type patchesState struct {
	Class   int    `json:"class"`
	Done    bool   `json:"done"`
	Tiles   int    `json:"tiles"`   // pictures of the shown lists that have come
	Hits    int    `json:"hits"`    // patches in the shown lists
	Pending int    `json:"pending"` // crop requests in flight
	Failed  int    `json:"failed"`  // images whose pictures could not be made
	Report  string `json:"report"`  // the shown class's lists: what 'bagnet patches -json' prints
}

// publishPatches sets window.bagnetPatches.
func (c *Root) publishPatches() {
	p := c.Patches
	if p == nil || !js.Global().Truthy() {
		return
	}
	s := patchesState{Class: p.Class, Done: p.Done, Pending: len(p.ids), Failed: len(p.failed)}
	if p.Done {
		if rep := p.Report(p.Class); rep != nil {
			if j, err := rep.JSON(); err == nil {
				s.Report = string(j)
			}
			for _, l := range rep.Lists() {
				for _, h := range l {
					s.Hits++
					if p.tiles[tileKey(h)] != nil {
						s.Tiles++
					}
				}
			}
		}
	}
	setJS(js.Global(), "bagnetPatches", toJS(s))
}
