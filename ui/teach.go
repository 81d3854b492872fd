package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/vugu/vugu/js"

	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/teachset"
)

// A Teaching teaches the model in use the classes of a chosen folder, as
// 'bagnet teach FOLDER' does: the inference worker computes each image's
// features (in the command's order: classes by id, images by path), then
// the held-out accuracy and the new model file, which becomes the model in
// use and can be downloaded. Only the features stay (in the worker), never
// the images.
type Teaching struct {
	Folder  string
	Name    string // the taught model's name: "BagNet taught: " and the folder's name, as the command's default
	Classes []teachset.Class
	Items   []*TeachItem
	Done    int
	Failed  int
	Running bool
	Err     string // why teaching stopped, "" when it did not

	Started, Elapsed float64 // performance.now() ms; Elapsed when done
	TrainMs          float64 // the held-out accuracy and the training, in the worker
	Reply            *protocol.TeachReply
	File             js.Value // the taught model file (Uint8Array), for the download
	SHA256           string

	fileQueue         // ids: an index into groups, -1 for the teach request
	groups    [][]int // the items of each features request sent
	per       int     // images per features request (perRequest)
	reset     bool    // the next features request forgets the worker's old examples
	examples  int     // the worker's examples after the features answers so far

	prepMs, passMs float64 // the worker's time on the features (protocol.FeaturesReply)
	helped         int

	handles map[string]js.Value // the images' File handles by path, for what each class learned (taughtpatches.go)
	loadID  int                 // the request that loads the taught model
}

// TeachItem is one image of a Teaching.
type TeachItem struct {
	Path  string
	Class int
	Err   string
	Done  bool
}

// StartTeach lists the classes of the chosen folder's files (a FileList or
// an Array of File, each with its path in webkitRelativePath or batchPath)
// and sends their images to the worker. A folder that cannot be taught
// (fewer than 2 classes, a class folder without images, a bad classes.tsv)
// is said in the page; the model in use and everything else stay.
func (c *Root) StartTeach(files js.Value) {
	if c.Info == nil || c.Busy() || (c.Batch != nil && c.Batch.Running) || (c.Teach != nil && c.Teach.Running) {
		c.Status = "Please wait for the current work to finish."
		return
	}
	paths, byPath := filePaths(files)
	folder := ""
	if len(paths) > 0 {
		folder, _, _ = strings.Cut(paths[0], "/")
	}
	tsv, hasTSV := byPath[path.Join(folder, teachset.TSV)]
	go func() {
		var names []byte
		var rerr error
		if hasTSV {
			buf, err := await(tsv.Call("arrayBuffer"))
			if err == nil {
				names = make([]byte, buf.Get("byteLength").Int())
				js.CopyBytesToGo(names, js.Global().Get("Uint8Array").New(buf))
			}
			rerr = err
		}
		c.ee.Lock()
		defer c.ee.UnlockRender()
		if rerr != nil {
			c.teachFail(&Teaching{Folder: folder}, fmt.Sprintf("%s: could not read it: %v", path.Join(folder, teachset.TSV), rerr))
			return
		}
		c.startTeach(folder, paths, byPath, names)
	}()
}

// startTeach starts teaching from the listed files; the lock is held.
func (c *Root) startTeach(folder string, paths []string, byPath map[string]js.Value, tsv []byte) {
	t := &Teaching{Folder: folder, Name: teachset.DefaultName(folder)}
	if c.Busy() || (c.Batch != nil && c.Batch.Running) {
		c.Status = "Please wait for the current work to finish."
		return
	}
	classes, err := teachset.FromPaths(paths, tsv, 0)
	if err != nil {
		c.teachFail(t, err.Error())
		return
	}
	t.Classes, t.Running, t.Started, t.ids, t.reset, t.per = classes, true, now(), map[int]int{}, true, perRequest()
	for ci, cl := range classes {
		for _, p := range cl.Images {
			t.Items = append(t.Items, &TeachItem{Path: p, Class: ci})
			t.files = append(t.files, byPath[p])
		}
	}
	t.handles = map[string]js.Value{}
	for _, it := range t.Items {
		t.handles[it.Path] = byPath[it.Path]
	}
	c.Teach, c.Taught = t, nil
	c.Err = ""
	c.publishTeach()
	c.teachNext()
}

// teachFail stops t with msg (shown in the panel and as the page's error);
// nothing else changes: the model in use stays.
func (c *Root) teachFail(t *Teaching, msg string) {
	t.Running, t.Err, t.files, t.handles = false, msg, nil, nil
	if t.Started > 0 {
		t.Elapsed = now() - t.Started
	}
	c.Teach = t
	c.State, c.Err = StateError, "Cannot teach: "+msg
	c.Status = ""
	c.publishTeach()
}

// featuresPerRequest is how many images one features request carries:
// the inference worker computes them side by side, whole images on its
// band workers beside itself (protocol.FeaturesRequest.Classes), where one
// image at a time would run each pass in bands, every band recomputing its
// halo and every pass waiting for its slowest band, with the band workers
// idle while the image is decoded. 4: the page's most workers by default.
const featuresPerRequest = 4

// perRequest is featuresPerRequest, or ?teachper=N (1 to 8) for
// measurements (TestTeachSpeed): with 1 each image goes alone, its passes
// in bands on the band workers, as the page did before.
func perRequest() int {
	if !js.Global().Truthy() {
		return featuresPerRequest
	}
	q := js.Global().Get("URLSearchParams").New(js.Global().Get("location").Get("search"))
	if n, err := strconv.Atoi(q.Call("get", "teachper").String()); err == nil && n >= 1 && n <= 8 {
		return n
	}
	return featuresPerRequest
}

// teachNext reads the next images (up to featuresPerRequest) and sends
// them to the worker when teaching has room for another request (at most
// runWindow outstanding, one set of files read at a time, so the requests
// go in item order), or the teach request when all are done; the lock is
// held.
func (c *Root) teachNext() {
	t := c.Teach
	if t == nil || !t.Running || t.reading || len(t.ids) >= runWindow {
		return
	}
	var items []int
	var files []js.Value
	for len(items) < t.per {
		i, f, ok := t.take()
		if !ok {
			break
		}
		items, files = append(items, i), append(files, f)
	}
	if len(items) == 0 {
		if t.Done == len(t.Items) {
			c.teachTrain()
		}
		return
	}
	c.State = StateWorking
	c.Status = fmt.Sprintf("Teaching: features of %s (%d of %d)…", t.Items[items[0]].Path, items[0]+1, len(t.Items))
	t.reading = true
	go func() {
		bufs, why := readFiles(files)
		c.ee.Lock()
		defer c.ee.UnlockRender()
		t.reading = false
		if c.Teach != t || !t.Running {
			return
		}
		c.sendFeatures(t, items, bufs, why)
		for k, i := range items {
			if why[k] != "" {
				c.teachItemDone(i, why[k])
			}
		}
		c.teachNext()
	}()
}

// sendFeatures sends one features request with the bytes (bufs, each an
// ArrayBuffer, transferred) of the items that were read (why[k] == "").
func (c *Root) sendFeatures(t *Teaching, items []int, bufs []js.Value, why []string) {
	req := &protocol.FeaturesRequest{Header: protocol.Header{Type: protocol.KindFeatures}, Classes: []int{}, Reset: t.reset}
	sent, arr := readOnes(items, bufs, why)
	if len(sent) == 0 {
		return
	}
	for _, i := range sent {
		req.Classes = append(req.Classes, t.Items[i].Class)
	}
	id := c.reqs.add(protocol.KindFeatures, runLabel(t.Items[sent[0]].Path, len(sent)))
	req.ID = &id
	t.ids[id] = len(t.groups)
	t.groups = append(t.groups, sent)
	t.reset = false // the first request sent starts a new set
	if t.per == 1 { // one image alone: its passes in bands
		req.Class, req.Classes = req.Classes[0], nil
	}
	obj := message(req)
	if t.per == 1 {
		setJS(obj, protocol.FieldBytes, arr.Index(0))
	} else {
		setJS(obj, protocol.FieldBytes, arr)
	}
	c.send(outgoing{id: id, kind: protocol.KindFeatures, msg: obj, transfer: arr, keep: true})
}

// readFiles reads files (image files of a run, in order): bufs[k] is file
// k's bytes (an ArrayBuffer), or why[k] says why it is not read. Not with
// the lock held: it waits for the browser.
func readFiles(files []js.Value) (bufs []js.Value, why []string) {
	bufs, why = make([]js.Value, len(files)), make([]string, len(files))
	for k, f := range files {
		if why[k] = fileReason(f); why[k] != "" {
			continue
		}
		buf, err := await(f.Call("arrayBuffer"))
		if err != nil {
			why[k] = "could not read the file: " + err.Error()
		}
		bufs[k] = buf
	}
	return bufs, why
}

// readOnes are the items whose files were read (why[k] == "") and an
// Array of their bytes, in order: what one request of several images
// carries (FieldBytes).
func readOnes(items []int, bufs []js.Value, why []string) (sent []int, arr js.Value) {
	arr = js.Global().Get("Array").New()
	for k, i := range items {
		if why[k] == "" {
			sent = append(sent, i)
			arr.Call("push", bufs[k])
		}
	}
	return sent, arr
}

// runLabel names a request of n images, the first at path.
func runLabel(path string, n int) string {
	if n > 1 {
		return fmt.Sprintf("%s (and %d more)", path, n-1)
	}
	return path
}

// fileReason says why an image file is not read (empty, or over
// MaxFileBytes), "" when it is.
func fileReason(f js.Value) string {
	size := int64(f.Get("size").Float())
	switch {
	case size == 0:
		return "the file is empty"
	case size > MaxFileBytes:
		return fmt.Sprintf("the file is %s: image files over %s are not read", Bytes(size), Bytes(MaxFileBytes))
	}
	return ""
}

// teachItemDone records item i (errMsg: why it could not be used) and goes on.
func (c *Root) teachItemDone(i int, errMsg string) {
	t := c.Teach
	it := t.Items[i]
	it.Err, it.Done = errMsg, true
	t.Done++
	if errMsg != "" {
		t.Failed++
	}
	c.publishTeach()
	c.teachNext()
}

// teachTrain asks for the held-out accuracy and the model file, after
// checking that every class kept an image.
func (c *Root) teachTrain() {
	t := c.Teach
	usable := make([]int, len(t.Classes))
	for _, it := range t.Items {
		if it.Err == "" {
			usable[it.Class]++
		}
	}
	for ci, n := range usable {
		if n == 0 {
			c.teachFail(t, fmt.Sprintf("%s/%s: no usable image: all %d failed; every class needs at least one", t.Folder, t.Classes[ci].ID, len(t.Classes[ci].Images)))
			return
		}
	}
	req := &protocol.TeachRequest{Header: protocol.Header{Type: protocol.KindTeach}, Name: t.Name}
	for _, cl := range t.Classes {
		req.Classes = append(req.Classes, protocol.Class{ID: cl.ID, Name: cl.Name})
	}
	id := c.reqs.add(protocol.KindTeach, t.Folder)
	req.ID = &id
	t.ids[id] = -1
	c.State = StateWorking
	c.Status = fmt.Sprintf("Teaching: training the new head on %d images…", len(t.Items)-t.Failed)
	c.send(outgoing{id: id, kind: protocol.KindTeach, msg: message(req)})
}

// teachAnswer takes the worker's answer (or error, failed) to a teaching
// request; it reports false when id is not one.
func (c *Root) teachAnswer(id int, raw []byte, m js.Value, failed bool, errMsg string) bool {
	t := c.Teach
	if t == nil {
		return false
	}
	i, ok := c.claim(t.ids, id)
	if !ok || !t.Running {
		return ok // not teaching's, or teaching stopped: dropped
	}
	if failed && errMsg == "" {
		errMsg = "the worker gave no reason"
	}
	if i >= 0 {
		items := t.groups[i]
		errs := make([]string, len(items))
		if failed {
			for k := range errs {
				errs[k] = errMsg
			}
		} else {
			// The worker answers in the order the requests were sent, each
			// answer with its examples after that request: those before
			// and the images it kept. A worker restarted meanwhile lost
			// them.
			var r protocol.FeaturesReply
			err := json.Unmarshal(raw, &r)
			if r.Errors == nil && len(items) == 1 { // a request of one image alone
				r.Errors = []string{""}
			}
			kept := 0
			for _, e := range r.Errors {
				if e == "" {
					kept++
				}
			}
			if err != nil || len(r.Errors) != len(items) || r.Examples != t.examples+kept {
				c.teachFail(t, fmt.Sprintf("the inference worker lost the features computed so far (it holds %d, want %d; was it restarted?): please choose the folder again", r.Examples, t.examples+kept))
				return true
			}
			t.examples += kept
			t.prepMs += r.PrepMs
			t.passMs += r.PassMs
			t.helped += r.Helped
			errs = r.Errors
		}
		for k, it := range items {
			c.teachItemDone(it, errs[k])
		}
		return true
	}
	if failed {
		c.teachFail(t, errMsg)
		return true
	}
	var r protocol.TeachReply
	if err := json.Unmarshal(raw, &r); err != nil {
		c.teachFail(t, "unreadable answer: "+err.Error())
		return true
	}
	file := m.Get(protocol.FieldBytes)
	if file.Type() != js.TypeObject || file.Get("byteLength").Int() == 0 {
		c.teachFail(t, "the worker sent no model file")
		return true
	}
	b := make([]byte, file.Get("byteLength").Int())
	js.CopyBytesToGo(b, file)
	sum := sha256.Sum256(b)
	t.Reply, t.File, t.SHA256, t.TrainMs = &r, file, hex.EncodeToString(sum[:]), r.Ms
	t.Running, t.files = false, nil
	t.Elapsed = now() - t.Started
	c.publishTeach()
	// The taught model becomes the model in use, as a file the user loads;
	// once it is, its images go through it (taughtpatches.go).
	t.loadID = c.loadModel(t.FileName(), file.Get("buffer").Call("slice", 0))
	return true
}

// FileName is the taught model's download name.
func (t *Teaching) FileName() string { return t.Folder + ".safetensors" }

// SaveTaught offers the taught model file as a download.
func (c *Root) SaveTaught() {
	t := c.Teach
	if t == nil || !t.File.Truthy() {
		return
	}
	opts := js.Global().Get("Object").New()
	opts.Set("type", "application/octet-stream")
	save(js.Global().Get("Blob").New(js.Global().Get("Array").Call("of", t.File), opts), t.FileName())
}

// teachState is window.bagnetTaught, for scripts and tests.
type teachState struct {
	Total    int                   `json:"total"`
	Done     int                   `json:"done"`
	Failed   int                   `json:"failed"`
	Running  bool                  `json:"running"`
	Err      string                `json:"error,omitempty"`
	Name     string                `json:"name"`
	Classes  []string              `json:"classes"`
	SHA256   string                `json:"sha256,omitempty"` // of the taught model file
	Size     int                   `json:"size,omitempty"`
	Folds    int                   `json:"folds,omitempty"`
	Correct  int                   `json:"correct,omitempty"`
	Images   int                   `json:"images,omitempty"`
	PerClass []protocol.TeachScore `json:"perClass,omitempty"`
	Ms       float64               `json:"ms"`      // the whole teaching, in the page
	TrainMs  float64               `json:"trainMs"` // of it, the held-out accuracy and the training
	// Learned is the pass of the taught images through the taught model
	// that follows (taughtpatches.go): "running", "done" or "cancelled";
	// "" before it starts.
	Learned string `json:"learned,omitempty"`
	// The inference worker's time on the features: decoding and resizing
	// the images and the network's passes (of the images it computed
	// itself), and how many images its band workers computed whole.
	PrepMs float64 `json:"prepMs"`
	PassMs float64 `json:"passMs"`
	Helped int     `json:"helped"`
}

// publishTeach sets window.bagnetTaught.
func (c *Root) publishTeach() {
	t := c.Teach
	s := teachState{Total: len(t.Items), Done: t.Done, Failed: t.Failed, Running: t.Running, Err: t.Err, Name: t.Name,
		SHA256: t.SHA256, Ms: t.Elapsed, TrainMs: t.TrainMs, PrepMs: t.prepMs, PassMs: t.passMs, Helped: t.helped}
	for _, cl := range t.Classes {
		s.Classes = append(s.Classes, cl.ID)
	}
	if t.File.Truthy() {
		s.Size = t.File.Get("byteLength").Int()
	}
	if r := t.Reply; r != nil {
		s.Folds, s.Correct, s.Images, s.PerClass = r.Folds, r.Correct, r.Images, r.PerClass
	}
	if r := c.Taught; r != nil && r.T == t {
		switch {
		case r.B.Running:
			s.Learned = "running"
		case r.B.Cancelled:
			s.Learned = "cancelled"
		default:
			s.Learned = "done"
		}
	}
	setJS(js.Global(), "bagnetTaught", toJS(s))
}
