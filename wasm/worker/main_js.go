//go:build js && wasm

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"syscall/js"
	"time"
	"unsafe"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/model/kernel"
	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/wasm/promise"
	"github.com/bagnetweb/bagnet/wasm/simd"
)

var (
	global     = js.Global()
	jsJSON     = global.Get("JSON")
	jsObject   = global.Get("Object")
	jsUint8    = global.Get("Uint8Array")
	jsFloat32  = global.Get("Float32Array")
	jsClamped  = global.Get("Uint8ClampedArray")
	jsArray    = global.Get("Array")
	jsReflect  = global.Get("Reflect")
	timeOrigin = time.Now()
)

func main() {
	inbox := make(chan js.Value, 64)
	handler := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) > 0 {
			inbox <- args[0]
		}
		return nil
	})
	// worker.js queues messages that arrive before this point and hands
	// them over in order.
	global.Call("bagnetWorkerReady", handler)
	var w worker
	w.kernels, w.kernel = chooseKernels()
	o := options()
	w.failAfter, w.hangAfter, w.testHooks = o.FailBands, o.HangBands, o.TestHooks
	if o.Role != protocol.RoleBand && o.Workers > 1 {
		w.helpers = startHelpers(o.Workers-1, &w.due)
	}
	for msg := range inbox {
		w.handle(msg)
	}
}

// options reads the worker's options (protocol.Options, JSON in its
// name); a missing or unreadable name means one worker and no test hooks.
func options() protocol.Options {
	o := namedOptions()
	o.Workers = max(1, min(o.Workers, maxWorkers))
	if !o.TestHooks {
		o.HangBands = 0
	}
	return o
}

// namedOptions are the options as the worker's name spells them.
func namedOptions() protocol.Options {
	var o protocol.Options
	name := global.Get("name")
	if name.Type() == js.TypeString && name.String() != "" {
		if err := json.Unmarshal([]byte(name.String()), &o); err != nil {
			o = protocol.Options{}
		}
	}
	return o
}

// maxWorkers caps the band workers: past a few bands the halo (the input
// rows each band recomputes) eats the gain, and the map has few rows.
const maxWorkers = 8

// chooseKernels runs the int8 GEMMs on the WebAssembly SIMD module when
// worker.js could load it, else on the pure-Go kernels (same results).
func chooseKernels() (kernel.Kernels, string) {
	k, err := simd.Load()
	if err == nil {
		return k, "WebAssembly SIMD"
	}
	why := "no SIMD kernel module"
	if v := global.Get("bagnetSIMDStatus"); v.Type() == js.TypeString {
		why = "SIMD " + v.String()
	}
	return kernel.Default(), "WebAssembly without SIMD (" + why + ")"
}

// ms is a monotonic clock in milliseconds.
func ms() float64 { return float64(time.Since(timeOrigin).Microseconds()) / 1000 }

// handle answers one message. A failure, a panic included, becomes an
// error message carrying the request's id; the worker keeps serving.
func (w *worker) handle(msg js.Value) {
	raw := jsonPart(msg)
	var h protocol.Header
	err := json.Unmarshal(raw, &h)
	typ, id := h.Type, h.ID
	defer func() {
		if r := recover(); r != nil {
			postMsg(errorReply(id, typ, fmt.Errorf("internal error: %v", r)))
			fmt.Printf("worker: panic handling %q: %v\n%s", typ, r, debug.Stack())
		}
	}()
	if err != nil {
		postMsg(errorReply(nil, typ, fmt.Errorf("unreadable message: %v", err)))
		return
	}
	switch typ {
	case protocol.KindClassify, protocol.KindScramble, protocol.KindOcclude, protocol.KindBench, protocol.KindEvidence:
		w.startRequest()
	}
	switch typ {
	case protocol.KindHang, protocol.KindCrash: // test hooks (?testhooks=1 only)
		if !w.testHooks {
			err = fmt.Errorf("unknown message type %q", typ)
			break
		}
		if typ == protocol.KindCrash {
			go func() { panic("test hook: the inference worker crashes on purpose") }()
			return
		}
		var req protocol.HangRequest
		if err = unmarshal(raw, &req); err != nil {
			break
		}
		if req.Ms > 0 {
			busy(time.Duration(req.Ms) * time.Millisecond)
			return
		}
		hang()
	case protocol.KindLoad: // the site's default model (no id), or one picked (id)
		var req protocol.LoadRequest
		if err = unmarshal(raw, &req); err == nil {
			err = w.load(id, req.URL, req.Size)
		}
	case protocol.KindClassify:
		err = w.onClassify(id, raw, msg)
	case protocol.KindScramble:
		err = w.onScramble(id, raw)
	case protocol.KindEvidence:
		err = w.onEvidence(id, raw)
	case protocol.KindModel:
		err = w.onModel(id, raw, msg)
	case protocol.KindOcclude:
		err = w.onOcclude(id, raw)
	case protocol.KindLoadBytes: // a band worker gets the model from its parent
		err = w.onLoadBytes(msg)
	case protocol.KindRows:
		err = w.onRows(id, raw, msg)
	case protocol.KindPool:
		err = w.onPool(id, raw, msg)
	case protocol.KindPatches:
		err = w.onPatches(id, raw, msg)
	case protocol.KindBench:
		err = w.onBench(id, raw)
	case protocol.KindFeatures:
		err = w.onFeatures(id, raw, msg)
	case protocol.KindTeach:
		err = w.onTeach(id, raw)
	case protocol.KindLive:
		err = w.onLive(id, raw, msg)
	case protocol.KindCrops:
		err = w.onCrops(id, raw, msg)
	case protocol.KindPNG:
		err = w.onPNG(id, raw, msg)
	default:
		err = fmt.Errorf("unknown message type %q", typ)
	}
	if err != nil {
		postMsg(errorReply(id, typ, err))
	}
}

// errorReply says that the request id of kind what failed with err.
func errorReply(id *int, what protocol.Kind, err error) *protocol.ErrorReply {
	return &protocol.ErrorReply{Header: protocol.Header{Type: protocol.KindError, ID: id}, What: what, Message: err.Error()}
}

func object() js.Value { return jsObject.New() }

// jsonPart is the JSON of msg without its typed arrays
// (protocol.BinaryFields), which JSON.stringify would spell out one number
// at a time.
func jsonPart(msg js.Value) []byte {
	o := jsObject.Call("assign", object(), msg)
	for _, f := range protocol.BinaryFields() {
		jsReflect.Call("deleteProperty", o, f)
	}
	return []byte(jsJSON.Call("stringify", o).String())
}

// unmarshal reads a message's JSON part (jsonPart) into m.
func unmarshal(raw []byte, m protocol.Message) error {
	if err := json.Unmarshal(raw, m); err != nil {
		return fmt.Errorf("unreadable %s message: %v", m.Head().Type, err)
	}
	return nil
}

// withBytes reads a request's JSON part into req and returns the bytes
// (a file, an image) that travel beside it, or the error missing when
// there are none.
func withBytes(raw []byte, msg js.Value, req protocol.Message, missing string) ([]byte, error) {
	if err := unmarshal(raw, req); err != nil {
		return nil, err
	}
	buf := bufferBytes(msg.Get(protocol.FieldBytes))
	if buf == nil {
		return nil, errors.New(missing)
	}
	return buf, nil
}

// message is the JavaScript object of m's JSON part; the caller adds the
// typed arrays that travel beside it (protocol.Field*).
func message(m protocol.Message) (js.Value, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return js.Value{}, err
	}
	return jsJSON.Call("parse", string(b)), nil
}

// postMsg posts m, a message without typed arrays. One that cannot be
// encoded (a NaN in it) becomes an error with its id.
func postMsg(m protocol.Message) {
	v, err := message(m)
	if err != nil {
		h := m.Head()
		v, _ = message(errorReply(h.ID, h.Type, err))
	}
	post(v, nil)
}

// post sends msg to the page, transferring the given buffers.
func post(msg js.Value, transfer []any) {
	if transfer == nil {
		global.Call("postMessage", msg)
		return
	}
	global.Call("postMessage", msg, jsArray.New(transfer...))
}

// load fetches the model file at url, reporting progress, and loads it.
// size, when positive, is the file's size (Content-Length may count
// compressed bytes).
func (w *worker) load(id *int, url string, size int) error {
	buf, err := fetchModel(url, size)
	if err != nil {
		return err
	}
	return w.install(id, buf, url)
}

// fetchModel downloads the model file at url, posting progress messages.
func fetchModel(url string, size int) ([]byte, error) {
	resp, err := promise.Await(global.Call("fetch", url))
	if err != nil {
		return nil, fmt.Errorf("downloading the model: %v", err)
	}
	if !resp.Get("ok").Bool() {
		return nil, fmt.Errorf("downloading the model %s: HTTP %d %s", url, resp.Get("status").Int(), resp.Get("statusText").String())
	}
	total := size
	if h := resp.Get("headers"); total <= 0 && h.Call("get", "content-encoding").IsNull() {
		if n := h.Call("get", "content-length"); !n.IsNull() {
			fmt.Sscan(n.String(), &total)
		}
	}
	buf := make([]byte, 0, max(total, 1<<20))
	progress := func() {
		postMsg(&protocol.Progress{Header: protocol.Header{Type: protocol.KindProgress},
			What: protocol.ProgressWeights, Loaded: int64(len(buf)), Total: int64(total)})
	}
	progress()
	reader := resp.Get("body").Call("getReader")
	last := ms()
	for {
		r, err := promise.Await(reader.Call("read"))
		if err != nil {
			return nil, fmt.Errorf("downloading the model: %v", err)
		}
		if r.Get("done").Bool() {
			break
		}
		chunk := r.Get("value")
		n := chunk.Get("length").Int()
		buf = slices.Grow(buf, n)[:len(buf)+n]
		js.CopyBytesToGo(buf[len(buf)-n:], chunk)
		if now := ms(); now-last > 50 {
			last = now
			progress()
		}
	}
	progress()
	return buf, nil
}

// onModel loads a model file the user gave the page (protocol.ModelRequest).
// A file that does not load leaves the current model in use.
func (w *worker) onModel(id *int, raw []byte, msg js.Value) error {
	var req protocol.ModelRequest
	buf, err := withBytes(raw, msg, &req, "model: no file bytes")
	if err != nil {
		return err
	}
	source := "your file"
	if req.Name != "" {
		source = req.Name
	}
	return w.install(id, buf, source)
}

// bufferBytes copies an ArrayBuffer into Go (nil when v is not an object).
func bufferBytes(v js.Value) []byte {
	if v.Type() != js.TypeObject {
		return nil
	}
	b := make([]byte, v.Get("byteLength").Int())
	js.CopyBytesToGo(b, jsUint8.New(v))
	return b
}

// install loads the model file buf (from source: a URL of the site or the
// user's file name), hands it to the band workers, warms it up and
// announces it with a protocol.Ready carrying id. On error the model in
// use, if any, stays.
func (w *worker) install(id *int, buf []byte, source string) error {
	eng, err := engine.Load(buf)
	if err != nil {
		return fmt.Errorf("%s is not a usable model file: %w", source, err)
	}
	eng.UseKernels(w.kernels)
	macs := eng.Config.MACs(eng.InputSize, eng.InputSize)
	// The page's watchdog now knows the work ahead.
	postMsg(&protocol.Loading{Header: protocol.Header{Type: protocol.KindLoading, ID: id}, MACs: macs})
	// One deadline for loading the helpers and the warm-up pass together.
	w.due = time.Now().Add(protocol.LoadDeadline(macs))
	if eng.Int8 != nil && len(eng.Bands(len(w.helpers)+1)) > 1 {
		// Every helper gets its copy of the file at once, then all load in
		// parallel, by one shared deadline.
		waits := make([]func() error, len(w.helpers))
		for i, h := range w.helpers {
			waits[i] = h.load(buf)
		}
		for i, wait := range waits {
			if err := wait(); err != nil {
				fmt.Printf("worker: band worker %d dropped: %v\n", i+1, err)
				continue
			}
			eng.Helpers = append(eng.Helpers, w.helpers[i])
		}
		eng.OnHelperError = func(h engine.Helper, err error) {
			fmt.Printf("worker: a band worker failed, continuing with fewer: %v\n", err)
			h.(*helper).die(err) // terminate it
			w.postEngine()
		}
	}
	w.eng, w.mem = eng, store{} // analyses of the old model cannot be explained by the new one
	w.examples = nil            // nor its teaching examples taught
	inf := newInfo(eng, len(buf))
	inf.Source = source
	warm, err := w.warmUp()
	if err != nil {
		// The model is in place (its band workers have it too) but a pass
		// failed: say so; the deadlines fall back to the model's MACs
		// (protocol.Pass) and a request that fails the same way says why.
		fmt.Printf("worker: %s: %v\n", source, err)
	}
	inf.WarmupMs = warm
	w.warmupMs = inf.WarmupMs
	inf.Kernel = w.engineText()
	msg, err := message(&protocol.Ready{Header: protocol.Header{Type: protocol.KindReady, ID: id}, Info: &inf})
	if err != nil {
		return err
	}
	post(msg, nil)
	return nil
}

// engineText says what runs the network, for the model card.
func (w *worker) engineText() string {
	if w.eng != nil && w.eng.Int8 == nil {
		return "WebAssembly (pure Go: float32 model), 1 worker"
	}
	n := 1
	if w.eng != nil {
		n = len(w.eng.Bands(len(w.eng.Helpers) + 1))
	}
	if n == 1 {
		return w.kernel + ", 1 worker"
	}
	return fmt.Sprintf("%s, %d workers", w.kernel, n)
}

// postEngine tells the page that the engine changed (a band worker failed).
func (w *worker) postEngine() {
	postMsg(&protocol.EngineChange{Header: protocol.Header{Type: protocol.KindEngine}, Kernel: w.engineText()})
}

// onLoadBytes loads the model a band worker's parent sends.
func (w *worker) onLoadBytes(msg js.Value) error {
	buf := bytesOf(msg.Get(protocol.FieldBytes))
	eng, err := engine.Load(buf)
	if err != nil {
		return fmt.Errorf("loading the model: %w", err)
	}
	eng.UseKernels(w.kernels)
	w.eng = eng
	if err := bandWarmUp(eng); err != nil { // compile and tier up behind the loading screen
		fmt.Printf("worker: %v\n", err) // its blocks will fail the same way, and the parent recomputes them
	}
	postMsg(&protocol.Ready{Header: protocol.Header{Type: protocol.KindReady}})
	return nil
}

// onRows computes a block of feature-map rows for the parent worker (band
// workers).
func (w *worker) onRows(id *int, raw []byte, msg js.Value) error {
	if id == nil {
		return fmt.Errorf("rows: missing numeric id")
	}
	if w.rowsServed++; w.failAfter > 0 && w.rowsServed > w.failAfter {
		return fmt.Errorf("band worker: failing on purpose after %d requests (?failbands)", w.failAfter)
	}
	if w.hangAfter > 0 && w.rowsServed > w.hangAfter {
		hang() // ?testhooks=1&hangbands=N
	}
	req := protocol.RowsRequest{R0: -1, R1: -1, C0: -1, C1: -1}
	if err := unmarshal(raw, &req); err != nil {
		return err
	}
	data, err := w.block(bytesOf(msg.Get(protocol.FieldRGB)), req.R0, req.R1, req.C0, req.C1)
	if err != nil {
		return err
	}
	out, err := message(&protocol.RowsReply{Header: protocol.Header{Type: protocol.KindRows, ID: id}})
	if err != nil {
		return err
	}
	arr := uint8Array(data)
	out.Set(protocol.FieldData, arr)
	post(out, []any{arr.Get("buffer")})
	return nil
}

// onBench runs the benchmark (bench in worker.go) and answers with its JSON.
func (w *worker) onBench(id *int, raw []byte) error {
	req := protocol.BenchRequest{Runs: 3}
	if err := unmarshal(raw, &req); err != nil {
		return err
	}
	b, err := w.bench(req.Runs, ms)
	if err != nil {
		return err
	}
	b.Engine = w.engineText()
	out, err := message(&protocol.BenchReply{Header: protocol.Header{Type: protocol.KindBench, ID: id}, Bench: b})
	if err != nil {
		return err
	}
	post(out, nil)
	return nil
}

// uint8Array copies b into a new Uint8Array (to post, transferring its buffer).
func uint8Array(b []byte) js.Value {
	arr := jsUint8.New(len(b))
	js.CopyBytesToJS(arr, b)
	return arr
}

// bytesOf copies a Uint8Array into Go (nil when v is not one).
func bytesOf(v js.Value) []byte {
	if v.Type() != js.TypeObject {
		return nil
	}
	b := make([]byte, v.Get("length").Int())
	js.CopyBytesToGo(b, v)
	return b
}

// readRequest reads the JSON part of a request that must carry an id
// into req (set to its defaults beforehand) and returns the id.
func readRequest(kind protocol.Kind, id *int, raw []byte, req protocol.Message) (int, error) {
	if id == nil {
		return 0, fmt.Errorf("%s: missing numeric id", kind)
	}
	return *id, unmarshal(raw, req)
}

func (w *worker) onClassify(id *int, raw []byte, msg js.Value) error {
	req := protocol.ClassifyRequest{TopK: 5}
	n, err := readRequest(protocol.KindClassify, id, raw, &req)
	if err != nil {
		return err
	}
	img := bufferBytes(msg.Get(protocol.FieldBytes))
	if img == nil {
		return fmt.Errorf("classify: no image bytes")
	}
	var a *engine.Analysis
	var m *resultMsg
	if req.Thumb != 0 {
		a, m, err = w.classifyThumb(n, img, req.TopK, req.Thumb, ms)
	} else {
		a, m, err = w.classify(n, img, req.TopK, ms)
	}
	if err == nil && req.Patches > 0 { // a batch's image: its patch candidates too (patches.go)
		m.Patches, err = w.patchCandidates(a, m, req.Patches)
	}
	return postResult(id, a, m, err)
}

func (w *worker) onScramble(id *int, raw []byte) error {
	req := protocol.ScrambleRequest{Of: -1, TopK: 5}
	n, err := readRequest(protocol.KindScramble, id, raw, &req)
	if err != nil {
		return err
	}
	a, m, err := w.scramble(n, req.Of, req.Seed, req.TopK, ms)
	return postResult(id, a, m, err)
}

func (w *worker) onOcclude(id *int, raw []byte) error {
	req := protocol.OccludeRequest{Of: -1, TopK: 5}
	n, err := readRequest(protocol.KindOcclude, id, raw, &req)
	if err != nil {
		return err
	}
	if len(req.Rect) != 4 {
		return fmt.Errorf("occlude: rect must be [x0, y0, x1, y1]")
	}
	a, m, err := w.occlude(n, req.Of, [4]int(req.Rect), req.TopK, ms)
	return postResult(id, a, m, err)
}

func (w *worker) onEvidence(id *int, raw []byte) error {
	req := protocol.EvidenceRequest{Class: -1}
	n, err := readRequest(protocol.KindEvidence, id, raw, &req)
	if err != nil {
		return err
	}
	ev, bias, err := w.evidence(n, req.Class)
	if err != nil {
		return err
	}
	out, err := message(&protocol.EvidenceReply{Header: protocol.Header{Type: protocol.KindEvidence, ID: id}, Class: req.Class, Bias: bias})
	if err != nil {
		return err
	}
	arr := float32Array(ev)
	out.Set(protocol.FieldEvidence, arr)
	post(out, []any{arr.Get("buffer")})
	return nil
}

// postResult answers request id with analysis a (m: what goes with it),
// or returns err when the request failed. The result message is the JSON
// metadata plus the evidence maps and the model input as transferred
// typed arrays.
func postResult(id *int, a *engine.Analysis, m *resultMsg, err error) error {
	if err != nil {
		return err
	}
	out, err := message(&protocol.ResultReply{Header: protocol.Header{Type: protocol.KindResult, ID: id}, Meta: m.Meta, Thumb: m.Thumb, Patches: m.Patches})
	if err != nil {
		postMsg(errorReply(id, protocol.KindResult, err))
		return nil
	}
	var transfer []any
	maps := object()
	for _, c := range m.Classes {
		arr := float32Array(m.Maps[c])
		maps.Set(fmt.Sprint(c), arr)
		transfer = append(transfer, arr.Get("buffer"))
	}
	out.Set(protocol.FieldEvidence, maps)
	rgba := protocol.RGBA(a.Input)
	input := jsClamped.New(len(rgba))
	js.CopyBytesToJS(input, rgba)
	out.Set(protocol.FieldInput, input)
	transfer = append(transfer, input.Get("buffer"))
	post(out, transfer)
	return nil
}

// float32Array copies v into a new Float32Array (wasm is little-endian,
// like every JavaScript engine's typed arrays in practice).
func float32Array(v []float32) js.Value {
	arr := jsFloat32.New(len(v))
	if len(v) > 0 {
		b := unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v))
		js.CopyBytesToJS(jsUint8.New(arr.Get("buffer")), b)
	}
	return arr
}

// onFeatures keeps the teaching examples of an image, or of several
// (protocol.FeaturesRequest: Classes set, FieldBytes an Array of
// ArrayBuffers), these on the band workers too.
func (w *worker) onFeatures(id *int, raw []byte, msg js.Value) error {
	var req protocol.FeaturesRequest
	var rep *protocol.FeaturesReply
	if err := unmarshal(raw, &req); err != nil {
		return err
	}
	if req.Classes == nil {
		buf := bufferBytes(msg.Get(protocol.FieldBytes))
		if buf == nil {
			return errors.New("features: no image bytes")
		}
		r, err := w.features(buf, req.Class, req.Reset, ms)
		if err != nil {
			return err
		}
		rep = r
	} else {
		arr := msg.Get(protocol.FieldBytes)
		if !jsArray.Call("isArray", arr).Bool() || arr.Length() != len(req.Classes) {
			return fmt.Errorf("features: want an Array of %d images' bytes", len(req.Classes))
		}
		imgs := make([][]byte, arr.Length())
		for i := range imgs {
			if imgs[i] = bufferBytes(arr.Index(i)); imgs[i] == nil {
				return fmt.Errorf("features: no bytes for image %d", i)
			}
		}
		var poolers []pooler
		if w.eng != nil {
			for _, h := range w.eng.Helpers {
				if h, ok := h.(*helper); ok && h.dead == nil {
					poolers = append(poolers, h)
				}
			}
		}
		r, err := w.featuresMany(imgs, req.Classes, req.Reset, poolers, ms)
		if err != nil {
			return err
		}
		rep = r
	}
	rep.ID = id
	postMsg(rep)
	return nil
}

// onPatches answers a protocol.PatchesRequest: from the page, spread over
// this worker and its band workers; from the parent (a band worker), here.
func (w *worker) onPatches(id *int, raw []byte, msg js.Value) error {
	req := protocol.PatchesRequest{TopK: 5}
	if _, err := readRequest(protocol.KindPatches, id, raw, &req); err != nil {
		return err
	}
	arr := msg.Get(protocol.FieldBytes)
	if !jsArray.Call("isArray", arr).Bool() || arr.Length() == 0 {
		return errors.New("patches: want an Array of images' bytes")
	}
	imgs := make([][]byte, arr.Length())
	for i := range imgs {
		if imgs[i] = bufferBytes(arr.Index(i)); imgs[i] == nil {
			return fmt.Errorf("patches: no bytes for image %d", i)
		}
	}
	var patchers []patcher
	if w.eng != nil {
		for _, h := range w.eng.Helpers {
			if h, ok := h.(*helper); ok && h.dead == nil {
				patchers = append(patchers, h)
			}
		}
	}
	rep, err := w.patchesMany(imgs, req.TopK, req.Patches, patchers, ms)
	if err != nil {
		return err
	}
	rep.ID = id
	postMsg(rep)
	return nil
}

// onPool answers a band worker's protocol.PoolRequest: the example of an
// image, computed here alone.
func (w *worker) onPool(id *int, raw []byte, msg js.Value) error {
	var req protocol.PoolRequest
	if id == nil {
		return errors.New("pool: missing numeric id")
	}
	if err := unmarshal(raw, &req); err != nil {
		return err
	}
	img := bytesOf(msg.Get(protocol.FieldBytes))
	if img == nil {
		return errors.New("pool: no image bytes")
	}
	ex, prep, pass, err := w.example(img, 0, false, ms)
	if err != nil {
		return err
	}
	postMsg(&protocol.PoolReply{Header: protocol.Header{Type: protocol.KindPool, ID: id}, Image: ex.Image.Sum, Flip: ex.Flip.Sum,
		Cells: ex.Image.Cells, PrepMs: prep, PassMs: pass})
	return nil
}

// onTeach answers a protocol.TeachRequest with the taught model file.
func (w *worker) onTeach(id *int, raw []byte) error {
	var req protocol.TeachRequest
	if err := unmarshal(raw, &req); err != nil {
		return err
	}
	rep, file, err := w.teachModel(&req, ms)
	if err != nil {
		return err
	}
	rep.ID = id
	return postWith(rep, protocol.FieldBytes, uint8Array(file))
}

// postWith posts the reply with the typed array arr beside it as field,
// its buffer transferred, not copied.
func postWith(reply protocol.Message, field string, arr js.Value) error {
	m, err := message(reply)
	if err != nil {
		return err
	}
	m.Set(field, arr)
	post(m, []any{arr.Get("buffer")})
	return nil
}
