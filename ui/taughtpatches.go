package ui

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/vugu/vugu/js"

	"github.com/bagnetweb/bagnet/evalreport"
	"github.com/bagnetweb/bagnet/patchset"
	"github.com/bagnetweb/bagnet/protocol"
)

// What each taught class learned. Once the taught model is the model in
// use, the page runs the taught images through it by itself, one after
// the other like a folder batch (its own, not the batch card's), each
// labelled with its taught class, and keeps per class the lists of most
// evidential patches (PatchRun, package patchset: the lists 'bagnet
// patches' makes with the taught model file). The teach panel shows each
// class's "for" list: the patches of its own images with the most evidence
// for it. When they show the background rather than the object, the class
// learned the background. The page keeps the images' File handles (to cut
// out the patches and to open an image), never their pixels.

// TaughtRun is the taught images' pass through the taught model.
type TaughtRun struct {
	T      *Teaching
	B      *Batch    // the taught images (labelled by class) and their results
	P      *PatchRun // their lists, per class
	Fors   [][]*patchset.Hit
	groups [][]int // the items of each patches request sent
	loaded int     // Root.Loaded with the taught model in use
}

// startTaught runs the images of t (taught; its model now in use, loaded
// as Root.Loaded) through the model in use; the lock is held.
func (c *Root) startTaught(t *Teaching) {
	if c.Info == nil || len(c.Info.Classes) != len(t.Classes) || t.handles == nil {
		return
	}
	b := &Batch{Folder: t.Folder, Model: c.Info.Name, NModel: len(c.Info.Classes), Running: true, Started: now(),
		fileQueue: fileQueue{ids: map[int]int{}}, prev: c.State}
	for i, cl := range t.Classes {
		b.Classes = append(b.Classes, evalreport.Class{ID: cl.ID, Index: i, Name: cl.Name})
	}
	for _, it := range t.Items {
		b.add(&BatchItem{Path: it.Path, Row: it.Class, Truth: it.Class, Label: t.Classes[it.Class].Name}, t.handles[it.Path])
	}
	r := &TaughtRun{T: t, B: b, loaded: c.Loaded}
	r.P = newPatchRun(b, c.Info.Classes)
	t.handles = nil // the run's items keep them
	c.Taught = r
	c.publishTaught()
	c.taughtNext()
}

// taughtLoaded starts the pass when id is the load of the last teaching's
// model; the lock is held.
func (c *Root) taughtLoaded(id int) {
	if t := c.Teach; t != nil && t.loadID == id && t.Reply != nil && !t.Running {
		c.startTaught(t)
	}
}

// TaughtRunning reports whether the taught images are being run.
func (c *Root) TaughtRunning() bool { return c.Taught != nil && c.Taught.B.Running }

// taughtNext sends the next taught images (up to Teaching.per, in one
// patches request: the worker computes them side by side, whole images
// on its band workers) when the run has room for another request (at
// most runWindow outstanding, one set of files read at a time, so the
// requests go in item order); with ?teachper=1, one classify request per
// image, as a folder batch does. The lock is held.
func (c *Root) taughtNext() {
	r := c.Taught
	if r == nil {
		return
	}
	b := r.B
	if r.T.per <= 1 {
		i, f, ok := b.step(b.Running, b.Done == len(b.Items), func() { c.finishTaught() })
		if !ok {
			return
		}
		c.State = StateWorking
		msg := &protocol.ClassifyRequest{Header: protocol.Header{Type: protocol.KindClassify}, TopK: TopK, Patches: patchset.DefaultPerImage}
		c.sendRun(&b.fileQueue, f, b.Items[i].Path, msg, i,
			func() bool { return c.Taught == r && b.Running },
			func(reason string) { c.taughtDone(i, nil, reason) }, c.taughtNext)
		return
	}
	if !b.Running || b.reading || len(b.ids) >= runWindow {
		return
	}
	var items []int
	var files []js.Value
	for len(items) < r.T.per {
		i, f, ok := b.take()
		if !ok {
			break
		}
		items, files = append(items, i), append(files, f)
	}
	if len(items) == 0 {
		if b.Done == len(b.Items) {
			c.finishTaught()
		}
		return
	}
	c.State = StateWorking
	b.reading = true
	go func() {
		bufs, why := readFiles(files)
		c.ee.Lock()
		defer c.ee.UnlockRender()
		b.reading = false
		if c.Taught != r || !b.Running {
			return
		}
		if sent, arr := readOnes(items, bufs, why); len(sent) > 0 {
			req := &protocol.PatchesRequest{Header: protocol.Header{Type: protocol.KindPatches}, TopK: TopK, Patches: patchset.DefaultPerImage}
			id := c.reqs.add(protocol.KindPatches, runLabel(b.Items[sent[0]].Path, len(sent)))
			req.ID = &id
			b.ids[id] = len(r.groups)
			r.groups = append(r.groups, sent)
			obj := message(req)
			setJS(obj, protocol.FieldBytes, arr)
			c.send(outgoing{id: id, kind: protocol.KindPatches, msg: obj, transfer: arr, keep: true})
		}
		for k, i := range items {
			if why[k] != "" {
				c.taughtDone(i, nil, why[k])
			}
		}
		c.taughtNext()
	}()
}

// taughtAnswer takes the worker's answer to a request of the pass; it
// reports false when id is not one.
func (c *Root) taughtAnswer(id int, raw []byte, failed bool, errMsg string) bool {
	r := c.Taught
	if r == nil {
		return false
	}
	b := r.B
	i, ok := c.claim(b.ids, id)
	if !ok || !b.Running {
		return ok // not the pass's, or it stopped: dropped
	}
	if failed && errMsg == "" {
		errMsg = "the worker gave no reason"
	}
	if r.T.per <= 1 { // one image's classify
		var res protocol.ResultReply
		if !failed {
			if err := json.Unmarshal(raw, &res); err != nil {
				failed, errMsg = true, "unreadable result: "+err.Error()
			}
		}
		if failed {
			c.taughtDone(i, nil, errMsg)
		} else {
			c.taughtResult(i, &res)
		}
		return true
	}
	items := r.groups[i]
	var rep protocol.PatchesReply
	if !failed {
		if err := json.Unmarshal(raw, &rep); err != nil || len(rep.Images) != len(items) {
			failed, errMsg = true, fmt.Sprintf("unreadable results (%d for %d images; %v)", len(rep.Images), len(items), err)
		}
	}
	for k, it := range items {
		switch {
		case failed:
			c.taughtDone(it, nil, errMsg)
		case rep.Images[k].Err != "":
			c.taughtDone(it, nil, rep.Images[k].Err)
		default:
			im := rep.Images[k]
			c.taughtResult(it, &protocol.ResultReply{Meta: protocol.Meta{Result: im.Result, Transform: im.Transform, Timings: im.Timings}, Patches: im.Patches})
		}
	}
	return true
}

// taughtResult offers image i's result to the lists and goes on.
func (c *Root) taughtResult(i int, res *protocol.ResultReply) {
	r := c.Taught
	b := r.B
	if res.Meta.Result.Model != "" {
		b.Model = res.Meta.Result.Model
	}
	tm := res.Timings
	b.workMs += tm.DecodeMs + tm.PreprocessMs + tm.InferMs + tm.EvidenceMs
	if c.Info != nil {
		r.P.add(i, res, c.Info)
	}
	c.taughtDone(i, res.Meta.Result.Top, "")
}

// taughtDone records image i's result and goes on with the next.
func (c *Root) taughtDone(i int, top []protocol.Prediction, errMsg string) {
	b := c.Taught.B
	it := b.Items[i]
	it.Top, it.Err, it.Done = top, errMsg, true
	b.Done++
	b.Elapsed = now() - b.Started
	c.publishTaught()
	c.taughtNext()
}

// CancelTaught stops the pass after the images in flight; the lists cover
// the images done.
func (c *Root) CancelTaught() {
	if r := c.Taught; r != nil && r.B.Running {
		r.B.Cancelled = true
		c.finishTaught()
	}
}

// finishTaught ends the pass (finished or cancelled): each class's "for"
// list is shown and the pictures of its patches are asked for.
func (c *Root) finishTaught() {
	r := c.Taught
	c.State = r.B.stop()
	r.P.Done = true
	r.Fors = make([][]*patchset.Hit, len(r.P.classes))
	for k := range r.Fors {
		r.Fors[k] = r.P.Report(k).For
	}
	c.askTiles(r.P, r.Fors...)
}

// OpenTaughtPatch opens the image of h, a patch of taught class k, in the
// full analysis with the class shown and the patch outlined, while the
// taught model is in use.
func (c *Root) OpenTaughtPatch(k int, h *patchset.Hit) {
	r := c.Taught
	if r == nil || r.B.Running {
		return
	}
	if c.Info == nil || c.Loaded != r.loaded {
		c.Status = fmt.Sprintf("These patches are those of %s: pick it in the model card to open them.", r.T.Name)
		return
	}
	c.openPatch(r.P, k, h)
}

// taughtPatchesState is window.bagnetTaughtPatches, for scripts and tests.
type taughtPatchesState struct {
	Total     int     `json:"total"`
	Done      int     `json:"done"`
	Running   bool    `json:"running"`
	Cancelled bool    `json:"cancelled"`
	Errors    int     `json:"errors"`
	Ms        float64 `json:"ms"`      // the pass, in the page
	WorkMs    float64 `json:"workMs"`  // the worker's time on its images (decode, preprocess, network, evidence)
	Hits      int     `json:"hits"`    // patches in the "for" lists shown
	Tiles     int     `json:"tiles"`   // their pictures that have come
	Pending   int     `json:"pending"` // crop requests in flight
	Failed    int     `json:"failed"`  // images whose pictures could not be made
	// Reports are each class's lists once the pass is over: what 'bagnet
	// patches -json -class ID' prints with the taught model file.
	Reports []string `json:"reports,omitempty"`
}

// publishTaught sets window.bagnetTaughtPatches.
func (c *Root) publishTaught() {
	r := c.Taught
	if r == nil || !js.Global().Truthy() {
		return
	}
	b, p := r.B, r.P
	s := taughtPatchesState{Total: len(b.Items), Done: b.Done, Running: b.Running, Cancelled: b.Cancelled, Ms: b.Elapsed, WorkMs: b.workMs,
		Pending: len(p.ids), Failed: len(p.failed)}
	for _, it := range b.Items {
		if it.Err != "" {
			s.Errors++
		}
	}
	for _, l := range r.Fors {
		for _, h := range l {
			s.Hits++
			if p.Tile(h) != nil {
				s.Tiles++
			}
		}
	}
	if p.Done {
		for k := range p.classes {
			if j, err := p.Report(k).JSON(); err == nil {
				s.Reports = append(s.Reports, string(j))
			}
		}
	}
	setJS(js.Global(), "bagnetTaughtPatches", toJS(s))
	c.publishTeach()
}

// TaughtPatches shows, in the teach panel, what each taught class
// learned: the pass's progress (cancellable), then each class's patches
// with the most evidence for it in its own images.
type TaughtPatches struct {
	R        *TaughtRun
	OnCancel func()
	OnOpen   func(k int, h *patchset.Hit)
}

// Fraction is the part of the pass done.
func (c *TaughtPatches) Fraction() float64 {
	if len(c.R.B.Items) == 0 {
		return 0
	}
	return float64(c.R.B.Done) / float64(len(c.R.B.Items))
}

// CountText is "done / total".
func (c *TaughtPatches) CountText() string {
	return fmt.Sprintf("%d / %d", c.R.B.Done, len(c.R.B.Items))
}

// StatusText says where the pass is.
func (c *TaughtPatches) StatusText() string {
	b := c.R.B
	switch {
	case b.Running:
		s := "Classifying the taught images with the taught model"
		if rate := b.Rate(); rate > 0 {
			s += fmt.Sprintf(": %.1f images per second, about %s left", rate, seconds(time.Duration(float64(len(b.Items)-b.Done)/rate*float64(time.Second))))
		}
		return s + "…"
	case b.Cancelled:
		return fmt.Sprintf("Cancelled after %d of %d images: the patches below are of those.", b.Done, len(b.Items))
	}
	s := fmt.Sprintf("The %d taught images, classified by the taught model in %.1f s.", len(b.Items), b.Elapsed/1000)
	if n := c.R.P.Pending(); n > 0 {
		s += fmt.Sprintf(" Cutting out the patches of %d more images…", n)
	}
	return s
}

// TaughtClass is one class's row of patches.
type TaughtClass struct {
	ID, Title string
	Hits      []*patchset.Hit
	Open      func(*patchset.Hit)
}

// Classes are each class's "for" list, once the pass is over.
func (c *TaughtPatches) Classes() []TaughtClass {
	var out []TaughtClass
	for k, hits := range c.R.Fors {
		cl := c.R.T.Classes[k]
		title := cl.Name
		if cl.ID != cl.Name {
			title += " (" + cl.ID + ")"
		}
		k := k
		out = append(out, TaughtClass{ID: "tp-for-" + strconv.Itoa(k), Title: title, Hits: hits,
			Open: func(h *patchset.Hit) {
				if c.OnOpen != nil {
					c.OnOpen(k, h)
				}
			}})
	}
	return out
}
