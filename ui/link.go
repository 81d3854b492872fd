package ui

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unsafe"

	"github.com/vugu/vugu/js"

	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/ui/viz"
)

// The page talks to the inference worker with the messages of package
// protocol. Worker messages arrive in JavaScript callbacks;
// they are queued and applied in order by one goroutine that holds the
// render lock while it changes the page's state.

// requests is the page's record of the requests it sent the worker, by
// id, until they are answered (Root.forget): ids only grow, so an id names
// one request, and the analysis it makes, for good. Its zero value is
// ready to use.
type requests struct {
	last  int              // the last id given
	want  int              // the request whose answer is awaited (a newer one supersedes it)
	byID  map[int]*request // the requests not yet answered
	asked map[[2]int]bool  // (analysis id, class): the evidence maps asked for
}

// request is what the page keeps of one request.
type request struct {
	kind   protocol.Kind
	label  string       // the image's or the model's name, for messages
	sent   float64      // performance.now() when it was posted
	posted bool         // false while it waits in the queue
	model  *modelSource // the model a load, model or restart request loads
}

// add records a new request and returns its id.
func (r *requests) add(kind protocol.Kind, label string) int {
	r.last++
	r.put(r.last, &request{kind: kind, label: label})
	return r.last
}

func (r *requests) put(id int, q *request) {
	if r.byID == nil {
		r.byID = map[int]*request{}
	}
	r.byID[id] = q
}

// get is request id (a zero request when there is none).
func (r *requests) get(id int) *request {
	if q, ok := r.byID[id]; ok {
		return q
	}
	return &request{}
}

func (r *requests) kind(id int) protocol.Kind { return r.get(id).kind }
func (r *requests) label(id int) string       { return r.get(id).label }

// forget drops request id.
func (r *requests) forget(id int) { delete(r.byID, id) }

// ask records that class k's map of analysis a was asked for; it reports
// false when it already was.
func (r *requests) ask(a, k int) bool {
	if r.asked[[2]int{a, k}] {
		return false
	}
	if r.asked == nil {
		r.asked = map[[2]int]bool{}
	}
	r.asked[[2]int{a, k}] = true
	return true
}

// setJS sets obj[key] = val for vugu's js.Value, which Value.Set does not
// unwrap.
func setJS(obj js.Value, key string, val js.Value) {
	js.Global().Get("Reflect").Call("set", obj, key, val)
}

// now is performance.now() in milliseconds.
func now() float64 { return js.Global().Get("performance").Call("now").Float() }

// listen attaches to app.js's queue of worker messages.
func (c *Root) listen(boot js.Value, site protocol.SiteInfo) {
	c.watchBoot(boot, site)
	inbox := make(chan js.Value, 1024)
	f := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) == 0 {
			return nil
		}
		select {
		case inbox <- args[0]:
		default:
			if args[0].Get(protocol.FieldType).String() != string(protocol.KindProgress) { // progress may be dropped
				go func(m js.Value) { inbox <- m }(args[0])
			}
		}
		return nil
	})
	c.funcs = append(c.funcs, f)
	go func() {
		for m := range inbox {
			c.ee.Lock()
			c.onMessage(m)
			if c.liveQuiet { // a live frame drew itself: no render
				c.liveQuiet = false
				c.ee.UnlockOnly()
				continue
			}
			c.unlock() // now, or a running batch's next tick (batchrender.go)
		}
	}()
	boot.Call("attach", f)
}

// decode turns a JavaScript value into v through JSON.
func decode(val js.Value, v any) error {
	s := js.Global().Get("JSON").Call("stringify", val).String()
	return json.Unmarshal([]byte(s), v)
}

// jsonPart is the JSON of message m without its typed arrays
// (protocol.BinaryFields: a result's evidence maps and model input), which
// JSON.stringify would spell out one number at a time (200,704 of them for
// a 224-pixel input: over 100 ms).
func jsonPart(m js.Value) []byte {
	obj := js.Global().Get("Object")
	o := obj.Call("assign", obj.New(), m)
	for _, k := range protocol.BinaryFields() {
		js.Global().Get("Reflect").Call("deleteProperty", o, k)
	}
	return []byte(js.Global().Get("JSON").Call("stringify", o).String())
}

// message is the JavaScript object of m's JSON part; the caller adds the
// typed arrays that travel beside it (protocol.Field*). The page's
// requests hold no floats, so encoding them does not fail; if it did, the
// console would say so and the worker would refuse the empty message.
func message(m protocol.Message) js.Value {
	b, err := json.Marshal(m)
	if err != nil {
		js.Global().Get("console").Call("error", fmt.Sprintf("ui: encoding a %s message: %v", m.Head().Type, err))
		return js.Global().Get("Object").New()
	}
	return js.Global().Get("JSON").Call("parse", string(b))
}

// toJS is v as a JavaScript value, through JSON.
func toJS(v any) js.Value {
	b, err := json.Marshal(v)
	if err != nil {
		return js.Null()
	}
	return js.Global().Get("JSON").Call("parse", string(b))
}

// float32s copies a Float32Array into Go.
func float32s(arr js.Value) []float32 {
	n := arr.Get("length").Int()
	out := make([]float32, n)
	if n > 0 {
		b := unsafe.Slice((*byte)(unsafe.Pointer(&out[0])), 4*n)
		u8 := js.Global().Get("Uint8Array").New(arr.Get("buffer"), arr.Get("byteOffset"), 4*n)
		js.CopyBytesToGo(b, u8)
	}
	return out
}

// onMessage applies one worker message; the caller holds the lock.
func (c *Root) onMessage(m js.Value) {
	defer c.sendHeldEdit() // last: once the answer freed the page
	raw := jsonPart(m)
	var h protocol.ErrorReply // the header, and the fields of an error
	if err := json.Unmarshal(raw, &h); err != nil {
		js.Global().Get("console").Call("warn", "ui: unreadable worker message: "+err.Error())
		return
	}
	typ, id := h.Type, h.IDOr(-1)
	if typ == protocol.KindError && h.What == protocol.WhatWorker && h.Dead && c.Info != nil {
		c.restart(fmt.Sprintf("crashed (%s)", h.Message), "crashed")
		return
	}
	if id == c.inflight && (typ == protocol.KindResult || typ == protocol.KindReady || typ == protocol.KindFeatures || typ == protocol.KindTeach || typ == protocol.KindPatches || typ == protocol.KindLive || typ == protocol.KindCrops || typ == protocol.KindPNG || (typ == protocol.KindError && h.What != protocol.KindEvidence)) {
		if c.batchRequest(id) {
			c.answered() // the batch's next image goes to the worker before the page reads this answer
		} else {
			defer c.answered()
		}
	}
	switch typ {
	case protocol.KindProgress:
		var pm protocol.Progress
		if json.Unmarshal(raw, &pm) == nil {
			if p := c.Progress[pm.What]; p != nil {
				p.Loaded, p.Total = pm.Loaded, pm.Total
			}
		}
		c.loadAlive(0) // a download that moves is alive
	case protocol.KindLoading: // a model file parsed: its load and warm-up pass follow
		var l protocol.Loading
		_ = json.Unmarshal(raw, &l) // unreadable: 0 MACs, the download's deadline stays
		c.loadAlive(l.MACs)
	case protocol.KindReady: // the site's model, or one the user gave (id set)
		defer c.forget(id)
		var r protocol.Ready
		err := json.Unmarshal(raw, &r)
		if err == nil && r.Info == nil {
			err = fmt.Errorf("no model description")
		}
		if err != nil {
			c.fail("Could not read the model description: " + err.Error())
			return
		}
		info := *r.Info
		if src := c.reqs.get(id).model; src != nil {
			c.model = *src // the model to restart a worker with
		}
		if c.reqs.kind(id) == kindRestart && c.Info != nil {
			c.restarted(&info)
			return
		}
		first := c.Info == nil
		c.Info = &info
		c.publishDeadlines()
		c.Switching = ""
		c.Loaded++
		c.keepYours(c.Info) // the user's file is kept in this browser (yours.go)
		for _, p := range c.Progress {
			p.Done = true
		}
		c.State, c.Err = StateReady, ""
		if first {
			c.Status = "Model ready. Choose, drop or paste an image."
			return
		}
		// A new model: what the old one explained is gone.
		c.Cur, c.Scr, c.Edits, c.Sel, c.Hover = nil, nil, nil, -1, Cell{}
		c.reqs.asked = nil
		js.Global().Set("bagnetResult", nil)
		c.Status = fmt.Sprintf("Now using %s from %s. Choose, drop or paste an image.", info.Name, info.Source)
		c.taughtLoaded(id) // a taught model: what each class learned (taughtpatches.go)
	case protocol.KindEngine: // the worker's engine changed (a band worker was dropped)
		var e protocol.EngineChange
		if json.Unmarshal(raw, &e) == nil && c.Info != nil {
			c.Info.Kernel = e.Kernel
		}
	case protocol.KindResult:
		c.onResult(id, raw, m)
	case protocol.KindEvidence:
		c.onEvidence(id, raw, m)
	case protocol.KindFeatures, protocol.KindTeach:
		c.teachAnswer(id, raw, m, false, "")
	case protocol.KindPatches: // what each taught class learned (taughtpatches.go)
		c.taughtAnswer(id, raw, false, "")
	case protocol.KindLive:
		c.onLive(id, raw, m, "")
	case protocol.KindCrops:
		c.cropsAnswer(id, raw, m, false, "")
	case protocol.KindPNG:
		c.pngAnswer(id, m, false, "")
	case protocol.KindError:
		c.onError(id, h.What, h.Message)
	}
}

// forget drops the bookkeeping of an answered request.
func (c *Root) forget(id int) { c.reqs.forget(id) }

func (c *Root) onResult(id int, raw []byte, m js.Value) {
	if c.batchAnswer(id, raw, false, "") || c.taughtAnswer(id, raw, false, "") {
		return
	}
	defer c.forget(id)
	if id != c.reqs.want {
		return // an answer nobody waits for any more
	}
	var r protocol.ResultReply
	if err := json.Unmarshal(raw, &r); err != nil {
		c.onError(id, protocol.KindResult, "unreadable result: "+err.Error())
		return
	}
	meta := r.Meta
	req := c.reqs.get(id)
	a := &Analysis{ID: id, Label: req.label, Result: meta.Result, Bias: meta.Bias,
		Maps: map[int][]float32{}, Transform: meta.Transform, Timings: meta.Timings, Scramble: meta.Scramble, Occlusion: meta.Occlusion,
		pics: &c.pics}
	if req.posted {
		a.RoundTrip = now() - req.sent
	}
	ev := m.Get(protocol.FieldEvidence)
	keys := js.Global().Get("Object").Call("keys", ev)
	for k := 0; k < keys.Length(); k++ {
		key := keys.Index(k).String()
		cls, err := strconv.Atoi(key)
		if err != nil {
			continue
		}
		a.Maps[cls] = float32s(ev.Get(key))
	}
	input := m.Get(protocol.FieldInput)
	rgba := make([]byte, input.Get("length").Int())
	js.CopyBytesToGo(rgba, input)
	a.RGB = make([]byte, 0, len(rgba)/4*3)
	for p := 0; p+3 < len(rgba); p += 4 {
		a.RGB = append(a.RGB, rgba[p], rgba[p+1], rgba[p+2])
	}
	if c.Info != nil {
		a.Geo = viz.Geometry{Size: c.Info.InputSize, Patch: c.Info.Patch, Stride: c.Info.Stride,
			H: a.Result.Map.H, W: a.Result.Map.W}
	}
	if err := a.Geo.Validate(); err != nil || len(a.RGB) != a.Geo.Size*a.Geo.Size*3 {
		c.onError(id, protocol.KindResult, fmt.Sprintf("inconsistent result geometry (%v)", err))
		return
	}
	switch {
	case a.Scramble != nil:
		c.Scr = a
	case a.Occlusion != nil:
		c.Edits = append(c.Edits, a)
	default:
		c.Cur, c.Scr, c.Edits = a, nil, nil
		c.Sel = -1
		c.Hover = Cell{}
		c.focusOpened(a) // an image opened from the patch figure
		c.reveal = true
	}
	c.ensureMap(a, c.Selected())
	c.State, c.Err = StateDone, ""
	top := "nothing"
	if len(a.Result.Top) > 0 {
		top = fmt.Sprintf("%s (%s)", a.Result.Top[0].Name, Percent(float64(a.Result.Top[0].Prob)))
	}
	if o := a.Occlusion; o != nil {
		c.Status = fmt.Sprintf("Edit %d: the model now says %s; %d of %d patches were recomputed, the others cannot have changed.", len(c.Edits), top, o.Recomputed, o.Cells)
	} else if a.Scramble != nil {
		c.Status = "Scrambled image: the model says " + top + "."
	} else {
		c.Status = "The model says " + top + "."
	}
	// Published for scripts and tests; data-state follows in Rendered.
	res := publishResult(a)
	if a.Scramble != nil {
		setJS(js.Global(), "bagnetScrambled", res)
		setJS(js.Global(), "bagnetScramble", toJS(meta.Scramble))
	} else if a.Occlusion == nil {
		js.Global().Set("bagnetScrambled", nil)
	}
	if a.Occlusion != nil {
		setJS(js.Global(), "bagnetOcclusion", toJS(meta.Occlusion))
	} else {
		js.Global().Set("bagnetOcclusion", nil)
	}
}

func (c *Root) onEvidence(id int, raw []byte, m js.Value) {
	var r protocol.EvidenceReply
	if err := json.Unmarshal(raw, &r); err != nil {
		c.Status = "Could not read that evidence map: " + err.Error()
		return
	}
	for _, a := range append([]*Analysis{c.Cur, c.Scr}, c.Edits...) {
		if a != nil && a.ID == id {
			a.Maps[r.Class] = float32s(m.Get(protocol.FieldEvidence))
			a.Bias[r.Class] = r.Bias
		}
	}
}

func (c *Root) onError(id int, what protocol.Kind, msg string) {
	defer c.forget(id)
	switch {
	case c.liveDone[id] != nil: // a live frame: live mode says it
		c.onLive(id, nil, js.Null(), msg)
	case (what == protocol.KindModel || what == protocol.KindLoad) && c.Info != nil:
		c.Switching = ""
		// The user's model file did not load; the model in use stays.
		c.State, c.Err = StateError, modelFailText(msg, c.Info.Name)
		c.Status = "Still using " + c.Info.Name + "."
	case what == protocol.KindLoad || what == protocol.WhatWorker || c.Info == nil:
		c.fail("The classifier could not start: " + msg)
	case what == protocol.KindEvidence:
		c.Status = "Could not compute that evidence map: " + msg
	case c.teachAnswer(id, nil, js.Value{}, true, msg):
		// teaching lists a failed image and goes on, or says why it stopped
	case c.pngAnswer(id, js.Value{}, true, msg):
		// the figure's PNG could not be made: the status says so
	case c.cropsAnswer(id, nil, js.Value{}, true, msg):
		// a patch picture of the figure could not be made: it says so
	case c.batchAnswer(id, nil, true, msg):
		// one image of a folder failed: the batch lists it and goes on
	case c.taughtAnswer(id, nil, true, msg):
		// one taught image failed: the pass lists it and goes on
	case id != c.reqs.want:
		// an error for a request nobody waits for any more
	default:
		if c.reqs.kind(id) == protocol.KindClassify {
			c.Cur, c.Scr, c.Edits = nil, nil, nil
		}
		label := c.reqs.label(id)
		if label != "" {
			label += ": "
		}
		c.State, c.Err = StateError, label+msg
		c.Status = "" // #error says it (role=alert)
	}
}

// request makes msg, with a fresh id, the request awaited and sends it
// when the worker is free (see send); it returns the id. arrays are the
// typed arrays that travel beside msg's JSON part, by field name
// (protocol.Field*), transferred.
func (c *Root) request(label string, msg protocol.Message, arrays map[string]js.Value) int {
	h := msg.Head()
	id := c.reqs.add(h.Type, label)
	c.reqs.want = id
	h.ID = &id
	obj := message(msg)
	var transfer []any
	for k, v := range arrays {
		setJS(obj, k, v)
		transfer = append(transfer, v)
	}
	c.State, c.Err = StateWorking, ""
	var tr js.Value
	if transfer != nil {
		tr = js.Global().Get("Array").Call("of", transfer...)
	}
	c.send(outgoing{id: id, kind: h.Type, msg: obj, transfer: tr})
	return id
}

// classifyBuffer sends encoded image bytes (an ArrayBuffer, transferred) to
// the worker.
func (c *Root) classifyBuffer(label string, buf js.Value) {
	c.Status = "Classifying " + label + "…"
	c.request(label, &protocol.ClassifyRequest{Header: protocol.Header{Type: protocol.KindClassify}, TopK: TopK},
		map[string]js.Value{protocol.FieldBytes: buf})
}

// loadModelBuffer sends a model file's bytes (an ArrayBuffer, transferred)
// to the worker, which validates and loads it. The page keeps a copy: a
// worker restarted later loads it again.
func (c *Root) loadModelBuffer(label string, buf js.Value) { c.loadModel(label, buf) }

// loadModel is loadModelBuffer; it returns the request's id.
func (c *Root) loadModel(label string, buf js.Value) int {
	c.Status = "Loading the model " + label + "…"
	keep := &modelSource{bytes: buf.Call("slice", 0), name: label}
	id := c.request(label, &protocol.ModelRequest{Header: protocol.Header{Type: protocol.KindModel}, Name: label},
		map[string]js.Value{protocol.FieldBytes: buf})
	c.reqs.get(id).model = keep
	return id
}

// Occlude paints rect (model-input pixels) of the latest edit of the
// current image grey; the worker recomputes only the patches that see it.
// While the page is busy the edit is held and sent once it is free.
func (c *Root) Occlude(rect [4]int) {
	base := c.Edited()
	if base == nil {
		return // no image: the panel is not shown
	}
	if c.Busy() { // held, not dropped (heldedit.go)
		c.holdEdit(rect)
		return
	}
	c.Status = "Recomputing the patches that see the grey rectangle…"
	c.request(c.Cur.Label, &protocol.OccludeRequest{Header: protocol.Header{Type: protocol.KindOcclude},
		Of: base.ID, Rect: rect[:], TopK: TopK}, nil)
}

// Scramble shuffles the current image's tiles and classifies the result.
func (c *Root) Scramble() {
	if c.Cur == nil || c.Busy() {
		return
	}
	c.lastSeed++
	seed := int64(c.Cur.ID)*1000 + c.lastSeed
	c.Status = "Shuffling the tiles and classifying again…"
	c.request(c.Cur.Label, &protocol.ScrambleRequest{Header: protocol.Header{Type: protocol.KindScramble},
		Of: c.Cur.ID, Seed: seed, TopK: TopK}, nil)
}

// ensureMap asks the worker for class k's map of a if it is missing.
func (c *Root) ensureMap(a *Analysis, k int) {
	if a == nil || k < 0 || a.Maps[k] != nil || !c.worker.Truthy() || !c.reqs.ask(a.ID, k) {
		return
	}
	msg := message(&protocol.EvidenceRequest{Header: protocol.Header{Type: protocol.KindEvidence, ID: new(a.ID)}, Class: k})
	c.worker.Call("postMessage", msg) // small: not queued, not watched
}
