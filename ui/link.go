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

// The page talks to the inference worker with the messages described in
// wasm/worker/protocol.md. Worker messages arrive in JavaScript callbacks;
// they are queued and applied in order by one goroutine that holds the
// render lock while it changes the page's state.

// setJS sets obj[key] = val for vugu's js.Value, which Value.Set does not
// unwrap.
func setJS(obj js.Value, key string, val js.Value) {
	js.Global().Get("Reflect").Call("set", obj, key, val)
}

// now is performance.now() in milliseconds.
func now() float64 { return js.Global().Get("performance").Call("now").Float() }

// listen attaches to app.js's queue of worker messages.
func (c *Root) listen(boot js.Value) {
	c.watchBoot(boot)
	inbox := make(chan js.Value, 1024)
	f := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) == 0 {
			return nil
		}
		select {
		case inbox <- args[0]:
		default:
			if args[0].Get("type").String() != "progress" { // progress may be dropped
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
			c.ee.UnlockRender()
		}
	}()
	boot.Call("attach", f)
}

// decode turns a JavaScript value into v through JSON.
func decode(val js.Value, v any) error {
	s := js.Global().Get("JSON").Call("stringify", val).String()
	return json.Unmarshal([]byte(s), v)
}

// decodeMeta reads the JSON part of a "result" message: the message
// without its typed arrays (the evidence maps and the model input), which
// JSON.stringify would spell out one number at a time (200,704 of them for
// a 224-pixel input: over 100 ms).
func decodeMeta(m js.Value, meta *protocol.Meta) error {
	obj := js.Global().Get("Object")
	o := obj.Call("assign", obj.New(), m)
	for _, k := range []string{"evidence", "input"} {
		js.Global().Get("Reflect").Call("deleteProperty", o, k)
	}
	return decode(o, meta)
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
	typ := m.Get("type").String()
	id := -1
	if v := m.Get("id"); v.Type() == js.TypeNumber {
		id = v.Int()
	}
	what := m.Get("what").String()
	if typ == "error" && what == "worker" && m.Get("dead").Truthy() && c.Info != nil {
		c.restart(fmt.Sprintf("crashed (%s)", m.Get("message").String()), "crashed")
		return
	}
	if id == c.inflight && (typ == "result" || typ == "ready" || (typ == "error" && what != "evidence")) {
		defer c.answered()
	}
	switch typ {
	case "progress":
		p := c.Progress[m.Get("what").String()]
		if p != nil {
			p.Loaded, p.Total = int64(m.Get("loaded").Float()), int64(m.Get("total").Float())
		}
		c.loadAlive(0) // a download that moves is alive
	case "loading": // a model file parsed: its load and warm-up pass follow
		c.loadAlive(int64(m.Get("macs").Float()))
	case "ready": // the site's model, or one the user gave (id set)
		defer c.forget(id)
		var info protocol.Info
		if err := decode(m.Get("info"), &info); err != nil {
			c.fail("Could not read the model description: " + err.Error())
			return
		}
		if src, ok := c.loadingModels[id]; ok {
			c.model = src // the model to restart a worker with
		}
		if c.kinds[id] == "restart" && c.Info != nil {
			c.restarted(&info)
			return
		}
		first := c.Info == nil
		c.Info = &info
		c.publishDeadlines()
		c.Switching = ""
		c.Loaded++
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
		c.asked = map[[2]int]bool{}
		js.Global().Set("bagnetResult", nil)
		c.Status = fmt.Sprintf("Now using %s from %s. Choose, drop or paste an image.", info.Name, info.Source)
	case "engine": // the worker's engine changed (a band worker was dropped)
		if c.Info != nil {
			c.Info.Kernel = m.Get("kernel").String()
		}
	case "result":
		c.onResult(id, m)
	case "evidence":
		c.onEvidence(id, m)
	case "error":
		c.onError(id, m.Get("what").String(), m.Get("message").String())
	}
}

// forget drops the bookkeeping of an answered request.
func (c *Root) forget(id int) {
	delete(c.sent, id)
	delete(c.kinds, id)
	delete(c.labels, id)
	delete(c.loadingModels, id)
}

func (c *Root) onResult(id int, m js.Value) {
	defer c.forget(id)
	if id != c.want {
		return // an answer nobody waits for any more
	}
	var meta protocol.Meta
	if err := decodeMeta(m, &meta); err != nil {
		c.onError(id, "result", "unreadable result: "+err.Error())
		return
	}
	a := &Analysis{ID: id, Label: c.labels[id], Result: meta.Result, Bias: meta.Bias,
		Maps: map[int][]float32{}, Transform: meta.Transform, Timings: meta.Timings, Scramble: meta.Scramble, Occlusion: meta.Occlusion}
	if t, ok := c.sent[id]; ok {
		a.RoundTrip = now() - t
	}
	ev := m.Get("evidence")
	keys := js.Global().Get("Object").Call("keys", ev)
	for k := 0; k < keys.Length(); k++ {
		key := keys.Index(k).String()
		cls, err := strconv.Atoi(key)
		if err != nil {
			continue
		}
		a.Maps[cls] = float32s(ev.Get(key))
	}
	input := m.Get("input")
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
		c.onError(id, "result", fmt.Sprintf("inconsistent result geometry (%v)", err))
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
	publishResult(a, m.Get("result"))
	if a.Scramble != nil {
		setJS(js.Global(), "bagnetScrambled", m.Get("result"))
		setJS(js.Global(), "bagnetScramble", m.Get("scramble"))
	} else if a.Occlusion == nil {
		js.Global().Set("bagnetScrambled", nil)
	}
	if a.Occlusion != nil {
		setJS(js.Global(), "bagnetOcclusion", m.Get("occlusion"))
	} else {
		js.Global().Set("bagnetOcclusion", nil)
	}
}

func (c *Root) onEvidence(id int, m js.Value) {
	cls := m.Get("class").Int()
	for _, a := range append([]*Analysis{c.Cur, c.Scr}, c.Edits...) {
		if a != nil && a.ID == id {
			a.Maps[cls] = float32s(m.Get("evidence"))
			a.Bias[cls] = float32(m.Get("bias").Float())
		}
	}
}

func (c *Root) onError(id int, what, msg string) {
	defer c.forget(id)
	switch {
	case (what == "model" || what == "load") && c.Info != nil:
		c.Switching = ""
		// The user's model file did not load; the model in use stays.
		c.State, c.Err = StateError, modelFailText(msg, c.Info.Name)
		c.Status = "Still using " + c.Info.Name + "."
	case what == "load" || what == "worker" || c.Info == nil:
		c.fail("The classifier could not start: " + msg)
	case what == "evidence":
		c.Status = "Could not compute that evidence map: " + msg
	case id != c.want:
		// an error for a request nobody waits for any more
	default:
		if c.kinds[id] == "classify" {
			c.Cur, c.Scr, c.Edits = nil, nil, nil
		}
		label := c.labels[id]
		if label != "" {
			label += ": "
		}
		c.State, c.Err = StateError, label+msg
		c.Status = "" // #error says it (role=alert)
	}
}

// request makes a message with a fresh id the one awaited and sends it
// when the worker is free (see link.send).
func (c *Root) request(kind, label string, msg map[string]any, transfer ...any) {
	c.nextID++
	id := c.nextID
	c.want = id
	c.kinds[id], c.labels[id] = kind, label
	msg["id"] = id
	obj := js.Global().Get("Object").New()
	for k, v := range msg {
		if jv, ok := v.(js.Value); ok {
			setJS(obj, k, jv)
		} else {
			obj.Set(k, v)
		}
	}
	if kind == "load" { // a model of the site: restarts fetch it again
		url, _ := msg["url"].(string)
		size, _ := msg["size"].(int)
		c.loadingModels[id] = modelSource{url: url, size: size, name: label}
	}
	c.State, c.Err = StateWorking, ""
	var tr js.Value
	if transfer != nil {
		tr = js.Global().Get("Array").Call("of", transfer...)
	}
	c.send(outgoing{id: id, kind: kind, msg: obj, transfer: tr})
}

// classifyBuffer sends encoded image bytes (an ArrayBuffer, transferred) to
// the worker.
func (c *Root) classifyBuffer(label string, buf js.Value) {
	c.Status = "Classifying " + label + "…"
	c.request("classify", label, map[string]any{"type": "classify", "bytes": buf, "topK": TopK}, buf)
}

// loadModelBuffer sends a model file's bytes (an ArrayBuffer, transferred)
// to the worker, which validates and loads it. The page keeps a copy: a
// worker restarted later loads it again.
func (c *Root) loadModelBuffer(label string, buf js.Value) {
	c.Status = "Loading the model " + label + "…"
	keep := modelSource{bytes: buf.Call("slice", 0), name: label}
	c.request("model", label, map[string]any{"type": "model", "bytes": buf, "name": label}, buf)
	c.loadingModels[c.nextID] = keep
}

// Occlude paints rect (model-input pixels) of the latest edit of the
// current image grey; the worker recomputes only the patches that see it.
func (c *Root) Occlude(rect [4]int) {
	base := c.Edited()
	if base == nil || c.Busy() {
		return
	}
	c.Status = "Recomputing the patches that see the grey rectangle…"
	c.request("occlude", c.Cur.Label, map[string]any{"type": "occlude", "of": base.ID,
		"rect": []any{rect[0], rect[1], rect[2], rect[3]}, "topK": TopK})
}

// Scramble shuffles the current image's tiles and classifies the result.
func (c *Root) Scramble() {
	if c.Cur == nil || c.Busy() {
		return
	}
	c.lastSeed++
	seed := int64(c.Cur.ID)*1000 + c.lastSeed
	c.Status = "Shuffling the tiles and classifying again…"
	c.request("scramble", c.Cur.Label, map[string]any{"type": "scramble", "of": c.Cur.ID, "seed": seed, "topK": TopK})
}

// ensureMap asks the worker for class k's map of a if it is missing.
func (c *Root) ensureMap(a *Analysis, k int) {
	if a == nil || k < 0 || a.Maps[k] != nil || c.asked[[2]int{a.ID, k}] || !c.worker.Truthy() {
		return
	}
	c.asked[[2]int{a.ID, k}] = true
	obj := js.Global().Get("Object").New()
	obj.Set("type", "evidence")
	obj.Set("id", a.ID)
	obj.Set("class", k)
	c.worker.Call("postMessage", obj) // small: not queued, not watched
}
