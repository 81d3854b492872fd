package ui

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/vugu/vugu/js"

	"github.com/bagnetweb/bagnet/evalreport"
	"github.com/bagnetweb/bagnet/patchset"
	"github.com/bagnetweb/bagnet/preprocess/imagefile"
	"github.com/bagnetweb/bagnet/protocol"
)

// A Batch classifies the images of a chosen folder one after the other
// with the inference worker (which decodes them) and keeps of each only its
// result: its best classes, never its pixels or bytes. The folder's class
// folders label its images as 'bagnet eval' does (package evalreport), so
// its report is eval's.
type Batch struct {
	Folder  string
	Classes []evalreport.Class
	Skipped []string
	Items   []*BatchItem
	Model   string // the model's label: its results' Result.Model (eval's "model")
	NModel  int    // the model's classes

	Done      int     // items finished (classified or failed)
	Started   float64 // performance.now() at the start, ms
	Elapsed   float64 // ms, updated with each item
	Running   bool
	Cancelled bool

	fileQueue
	byPath map[string]*BatchItem // Items by Path
	prev   string                // the page's state before the batch
	workMs float64               // the worker's time on the images so far (their Timings), ms
}

// BatchItem is one image of a batch and what became of it.
type BatchItem struct {
	Path  string // as the browser gives it: FOLDER/CLASS/NAME (webkitRelativePath)
	Row   int    // index into the batch's classes; -1: unlabelled (not counted in the report)
	Label string // the true class's name, "" when unlabelled
	Truth int    // the true class's model index, -1 when unlabelled
	Top   []protocol.Prediction
	Err   string
	Done  bool
	Thumb string   // a small picture of the image (a data: URL), once classified; never its pixels
	file  js.Value // its File: a handle the browser reads when asked (batchopen.go), not its bytes
}

// Item is the item whose path is p, nil when there is none.
func (b *Batch) Item(p string) *BatchItem { return b.byPath[p] }

// stop ends the run (finished or cancelled) and returns the page state to
// go back to: the one before it, or ready if that was work or an error.
func (b *Batch) stop() string {
	b.Running = false
	b.Elapsed = now() - b.Started
	b.files = nil
	if b.prev == StateWorking || b.prev == StateError || b.prev == "" {
		b.prev = StateReady
	}
	return b.prev
}

// add appends item it, whose File is f, to the batch (f is read when the
// item's turn comes, and again to open it or one of its patches).
func (b *Batch) add(it *BatchItem, f js.Value) {
	if b.byPath == nil {
		b.byPath = map[string]*BatchItem{}
	}
	it.file = f
	b.Items = append(b.Items, it)
	b.byPath[it.Path] = it
	b.files = append(b.files, f)
}

// Right reports whether a labelled item's top-1 is its label.
func (it *BatchItem) Right() bool {
	return it.Done && it.Err == "" && it.Truth >= 0 && len(it.Top) > 0 && it.Top[0].Index == it.Truth
}

// Verdict says right, wrong, error, unlabelled or waiting.
func (it *BatchItem) Verdict() string {
	switch {
	case !it.Done:
		return "waiting"
	case it.Err != "":
		return "error"
	case it.Truth < 0:
		return "no label"
	case it.Right():
		return "right"
	}
	return "wrong"
}

// TopText is the top-1 class and its probability.
func (it *BatchItem) TopText() string {
	if len(it.Top) == 0 {
		return ""
	}
	return fmt.Sprintf("%s (%s)", it.Top[0].Name, Percent(float64(it.Top[0].Prob)))
}

// Report is eval's report of the batch's labelled images; nil until all
// of them are done.
func (b *Batch) Report() *evalreport.Report {
	if b == nil || b.Running || b.Cancelled {
		return nil
	}
	var rs []evalreport.Result
	for _, it := range b.Items {
		if it.Row < 0 {
			continue
		}
		r := evalreport.Result{Row: it.Row, Failed: it.Err != ""}
		for _, p := range it.Top {
			r.Top = append(r.Top, p.Index)
		}
		rs = append(rs, r)
	}
	rep := evalreport.Summarize(b.Model, b.NModel, b.Classes, rs)
	rep.Skipped = b.Skipped
	return rep
}

// Rate is images per second so far.
func (b *Batch) Rate() float64 {
	if b.Elapsed <= 0 {
		return 0
	}
	return float64(b.Done) / (b.Elapsed / 1000)
}

// StartBatch classifies the image files of files (a FileList or an Array
// of File, each with its path in webkitRelativePath or batchPath).
func (c *Root) StartBatch(files js.Value) {
	if c.Info == nil || c.Busy() || (c.Batch != nil && c.Batch.Running) {
		c.Status = "Please wait for the current work to finish."
		return
	}
	paths, byPath := filePaths(files)
	classes, images, skipped := evalreport.Plan(paths, c.Info.Classes)
	if len(images) == 0 {
		c.State, c.Err = StateError, fmt.Sprintf("No image files among the %d files given (looked for %s).", len(paths), strings.Join(imagefile.Exts(), ", "))
		return
	}
	b := &Batch{Classes: classes, Skipped: skipped, NModel: len(c.Info.Classes), Model: c.Info.Name,
		Running: true, Started: now(), fileQueue: fileQueue{ids: map[int]int{}}, prev: c.State}
	if len(paths) > 0 {
		b.Folder, _, _ = strings.Cut(paths[0], "/")
	}
	for _, im := range images {
		it := &BatchItem{Path: im.Path, Row: im.Row, Truth: -1}
		if im.Row >= 0 {
			it.Truth, it.Label = classes[im.Row].Index, classes[im.Row].Name
		}
		b.add(it, byPath[im.Path])
	}
	c.Batch = b
	c.Err = ""
	c.startPatches(b)
	c.publishBatch()
	c.batchNext()
	c.tickBatch(b)
}

// CancelBatch stops the batch after the image in flight.
func (c *Root) CancelBatch() {
	b := c.Batch
	if b == nil || !b.Running {
		return
	}
	b.Cancelled = true
	c.finishBatch(fmt.Sprintf("Cancelled after %d of %d images.", b.Done, len(b.Items)))
}

// batchNext reads the next file and sends it to the worker, when the
// batch has room for another request (fileQueue.step); the lock is held.
func (c *Root) batchNext() {
	b := c.Batch
	if b == nil {
		return
	}
	i, f, ok := b.step(b.Running, b.Done == len(b.Items), func() {
		c.finishBatch(fmt.Sprintf("Classified %d images.", len(b.Items)))
	})
	if !ok {
		return
	}
	it := b.Items[i]
	c.State = StateWorking
	c.Status = fmt.Sprintf("Classifying %s (%d of %d)…", it.Path, i+1, len(b.Items))
	msg := &protocol.ClassifyRequest{Header: protocol.Header{Type: protocol.KindClassify}, TopK: TopK, Thumb: ThumbSide, Patches: patchset.DefaultPerImage}
	c.sendRun(&b.fileQueue, f, it.Path, msg, i,
		func() bool { return c.Batch == b && b.Running },
		func(reason string) { c.batchDone(i, nil, reason) },
		func() { c.batchNext(); c.quietWhile(b) })
}

// sendFile reads the image file f (path names it) and sends msg with its
// bytes beside it, the request's id recorded in ids as index i, unless the
// run is over by then (live says whether it still runs; it may still set
// msg's fields), then calls sent (when not nil). A file that is empty, too
// large or unreadable goes to fail with the reason instead.
func (c *Root) sendFile(f js.Value, path string, msg protocol.Message, ids map[int]int, i int, live func() bool, fail func(reason string), sent func()) {
	if reason := fileReason(f); reason != "" {
		fail(reason)
		return
	}
	go func() {
		buf, err := await(f.Call("arrayBuffer"))
		c.ee.Lock()
		defer c.unlock()
		if !live() {
			return
		}
		if err != nil {
			fail("could not read the file: " + err.Error())
			return
		}
		kind := msg.Head().Type
		id := c.reqs.add(kind, path)
		msg.Head().ID = &id
		ids[id] = i
		obj := message(msg)
		setJS(obj, protocol.FieldBytes, buf)
		c.send(outgoing{id: id, kind: kind, msg: obj, transfer: js.Global().Get("Array").Call("of", buf), keep: true})
		if sent != nil {
			sent()
		}
	}()
}

// batchAnswer takes the worker's answer to a batch request; it reports
// false when id is not one.
func (c *Root) batchAnswer(id int, raw []byte, failed bool, errMsg string) bool {
	b := c.Batch
	if b == nil {
		return false
	}
	i, ok := c.claim(b.ids, id)
	if !ok || !b.Running {
		return ok // not the batch's, or the batch stopped: dropped
	}
	if failed {
		if errMsg == "" {
			errMsg = "the worker gave no reason"
		}
		c.batchDone(i, nil, errMsg)
		return true
	}
	var r protocol.ResultReply
	if err := json.Unmarshal(raw, &r); err != nil {
		c.batchDone(i, nil, "unreadable result: "+err.Error())
		return true
	}
	if r.Meta.Result.Model != "" {
		b.Model = r.Meta.Result.Model
	}
	b.Items[i].Thumb = r.Thumb
	tm := r.Timings
	b.workMs += tm.DecodeMs + tm.PreprocessMs + tm.InferMs + tm.EvidenceMs
	c.patchesAdd(i, &r)
	c.batchDone(i, r.Meta.Result.Top, "")
	return true
}

// batchDone records item i's result and goes on with the next.
func (c *Root) batchDone(i int, top []protocol.Prediction, errMsg string) {
	b := c.Batch
	it := b.Items[i]
	it.Top, it.Err, it.Done = top, errMsg, true
	b.Done++
	b.Elapsed = now() - b.Started
	c.publishBatch()
	c.batchNext()
	c.quietWhile(b)
}

// finishBatch ends the batch: finished or cancelled.
func (c *Root) finishBatch(status string) {
	b := c.Batch
	c.State = b.stop()
	c.Status = status
	c.quiet = false // rendered at once
	c.publishBatch()
	c.patchesFinished()
}

// batchState is window.bagnetBatch, for scripts and tests.
type batchState struct {
	Total     int     `json:"total"`
	Done      int     `json:"done"`
	Running   bool    `json:"running"`
	Cancelled bool    `json:"cancelled"`
	Rate      float64 `json:"rate"` // images per second
	Errors    int     `json:"errors"`
	Report    string  `json:"report,omitempty"` // what Save results (JSON) saves: eval -json's output
	Thumbs    int     `json:"thumbs"`           // items with a thumbnail
	ThumbMax  int     `json:"thumbMax"`         // the largest thumbnail's size in bytes (its data: URL)
	ThumbSum  int     `json:"thumbSum"`         // all thumbnails' bytes
	WorkMs    float64 `json:"workMs"`           // the worker's time on the images (decode, preprocess, network, evidence)
	ElapsedMs float64 `json:"elapsedMs"`        // from the start to the last answer
}

// publishBatch sets window.bagnetBatch.
func (c *Root) publishBatch() {
	b := c.Batch
	s := batchState{Total: len(b.Items), Done: b.Done, Running: b.Running, Cancelled: b.Cancelled, Rate: b.Rate(),
		WorkMs: b.workMs, ElapsedMs: b.Elapsed}
	for _, it := range b.Items {
		if it.Err != "" {
			s.Errors++
		}
		if it.Thumb != "" {
			s.Thumbs++
			s.ThumbSum += len(it.Thumb)
			s.ThumbMax = max(s.ThumbMax, len(it.Thumb))
		}
	}
	if rep := b.Report(); rep != nil {
		if j, err := rep.JSON(); err == nil {
			s.Report = string(j)
		}
	}
	setJS(js.Global(), "bagnetBatch", toJS(s))
}

// SaveBatch offers the report as a download: what 'bagnet eval -json'
// prints for the same folder.
func (c *Root) SaveBatch() {
	rep := c.Batch.Report()
	if rep == nil {
		return
	}
	j, err := rep.JSON()
	if err != nil {
		c.Status = err.Error()
		return
	}
	u8 := js.Global().Get("Uint8Array").New(len(j))
	js.CopyBytesToJS(u8, j)
	opts := js.Global().Get("Object").New()
	opts.Set("type", "application/json")
	save(js.Global().Get("Blob").New(js.Global().Get("Array").Call("of", u8), opts), c.Batch.Folder+"-eval.json")
}

// filePaths lists the paths of files (a FileList or an Array of File) in
// their order, each file's path being its batchPath, webkitRelativePath or
// name (the first set), with the files by path: a chosen or dropped
// folder's files, for the batch and teaching.
func filePaths(files js.Value) ([]string, map[string]js.Value) {
	byPath := map[string]js.Value{}
	var paths []string
	for i := 0; i < files.Length(); i++ {
		f := files.Index(i)
		p := ""
		for _, k := range []string{"batchPath", "webkitRelativePath", "name"} {
			if v := f.Get(k); v.Type() == js.TypeString && v.String() != "" {
				p = v.String()
				break
			}
		}
		if p == "" {
			continue
		}
		if _, dup := byPath[p]; !dup {
			paths = append(paths, p)
		}
		byPath[p] = f
	}
	return paths, byPath
}

// claim takes the answer to request id when ids (a run's requests, by id:
// the index of what each asked about) holds it: it returns that index and
// forgets the request.
func (c *Root) claim(ids map[int]int, id int) (int, bool) {
	i, ok := ids[id]
	if ok {
		delete(ids, id)
		c.forget(id)
	}
	return i, ok
}

// sendRun is sendFile for the next item of a run's queue q: while its
// file is read no other is (so the run's requests go in item order), and
// once it is sent (or failed) next is called to fill the run's window.
func (c *Root) sendRun(q *fileQueue, f js.Value, path string, msg protocol.Message, i int, live func() bool, fail func(reason string), next func()) {
	q.reading = true
	c.sendFile(f, path, msg, q.ids, i,
		func() bool { q.reading = false; return live() },
		func(reason string) { q.reading = false; fail(reason) },
		next)
}

// runWindow is how many requests of a run may be outstanding at once: one
// the worker is on and one waiting behind it, so that the worker never
// waits for the page to read the next file and show the last answer, and
// a cancelled run stops after at most two more images.
const runWindow = 2

// fileQueue is the files of a run (a batch, teaching), sent to the worker
// in order, at most runWindow at a time, and the run's requests in
// flight.
type fileQueue struct {
	files   []js.Value  // the File of each item (a handle: the browser reads it when asked)
	next    int         // the next item to send
	ids     map[int]int // requests by id -> item
	reading bool        // the next item's file is being read: its request is not sent yet
}

// take is the next item's index and file, dropping the queue's handle to
// it (nothing of a file is kept once it is sent); ok is false when every
// item has been taken.
func (q *fileQueue) take() (i int, f js.Value, ok bool) {
	if q.next >= len(q.files) {
		return 0, js.Undefined(), false
	}
	i, f = q.next, q.files[q.next]
	q.files[i] = js.Undefined()
	q.next++
	return i, f, true
}

// step is take for a run that may have stopped (running false: nothing is
// taken) and that sends one file at a time, at most runWindow outstanding:
// nothing is taken while a file is being read or runWindow requests wait
// for answers. When every item has been taken and all are done, it calls
// finish instead.
func (q *fileQueue) step(running, allDone bool, finish func()) (int, js.Value, bool) {
	if !running || q.reading || len(q.ids) >= runWindow {
		return 0, js.Undefined(), false
	}
	i, f, ok := q.take()
	if !ok && allDone {
		finish()
	}
	return i, f, ok
}
