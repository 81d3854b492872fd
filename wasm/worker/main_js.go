//go:build js && wasm

package main

import (
	"encoding/json"
	"fmt"
	"runtime/debug"
	"slices"
	"syscall/js"
	"time"
	"unsafe"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/model"
	"github.com/bagnetweb/bagnet/model/kernel"
	"github.com/bagnetweb/bagnet/protocol"
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
	jsPromise  = global.Get("Promise")
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
	var s server
	s.kernels, s.kernel = chooseKernels()
	o := options()
	s.failAfter, s.hangAfter, s.testHooks = o.FailBands, o.HangBands, o.TestHooks
	if o.Role != "band" && o.Workers > 1 {
		s.helpers = startHelpers(o.Workers-1, &s.due)
	}
	for msg := range inbox {
		s.handle(msg)
	}
}

// workerOptions are the JSON options in the worker's name (web/worker.js).
type workerOptions struct {
	Role    string `json:"role"`    // "band" for a band worker started by another worker
	Workers int    `json:"workers"` // how many workers to use, this one included
	// FailBands (the page's ?failbands=N, for tests) makes a band worker
	// fail every request after its first N, as a worker that died would.
	FailBands int `json:"failBands"`
	// TestHooks (the page's ?testhooks=1, for tests only) lets the worker
	// obey the "hang" and "crash" messages; HangBands (?hangbands=N, with
	// testhooks) makes a band worker hang on every request after its
	// first N. Without TestHooks these do nothing.
	TestHooks bool `json:"testHooks"`
	HangBands int  `json:"hangBands"`
}

// options reads the worker's options; a missing or unreadable name means
// one worker and no test hooks.
func options() workerOptions {
	var o workerOptions
	name := global.Get("name")
	if name.Type() == js.TypeString && name.String() != "" {
		if err := json.Unmarshal([]byte(name.String()), &o); err != nil {
			o = workerOptions{}
		}
	}
	o.Workers = max(1, min(o.Workers, maxWorkers))
	if !o.TestHooks {
		o.HangBands = 0
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
// "error" message carrying the request's id; the worker keeps serving.
func (s *server) handle(msg js.Value) {
	typ := msg.Get("type").String()
	id := js.Null()
	if v := msg.Get("id"); v.Type() == js.TypeNumber {
		id = v
	}
	defer func() {
		if r := recover(); r != nil {
			post(errorMsg(id, typ, fmt.Errorf("internal error: %v", r)), nil)
			fmt.Printf("worker: panic handling %q: %v\n%s", typ, r, debug.Stack())
		}
	}()
	switch typ {
	case "classify", "scramble", "occlude", "bench", "evidence":
		s.startRequest()
	}
	var err error
	switch typ {
	case "hang", "crash": // test hooks (?testhooks=1 only)
		if !s.testHooks {
			err = fmt.Errorf("unknown message type %q", typ)
			break
		}
		if typ == "crash" {
			go func() { panic("test hook: the inference worker crashes on purpose") }()
			return
		}
		if ms := intOr(msg.Get("ms"), 0); ms > 0 {
			busy(time.Duration(ms) * time.Millisecond)
			return
		}
		hang()
	case "load": // the site's default model (no id), or one picked (id)
		err = s.load(id, msg.Get("url").String(), intOr(msg.Get("size"), 0))
	case "classify":
		err = s.onClassify(id, msg)
	case "scramble":
		err = s.onScramble(id, msg)
	case "evidence":
		err = s.onEvidence(id, msg)
	case "model":
		err = s.onModel(id, msg)
	case "occlude":
		err = s.onOcclude(id, msg)
	case "loadBytes": // a band worker gets the model from its parent
		err = s.onLoadBytes(msg)
	case "rows":
		err = s.onRows(id, msg)
	case "bench":
		err = s.onBench(id, msg)
	default:
		err = fmt.Errorf("unknown message type %q", typ)
	}
	if err != nil {
		post(errorMsg(id, typ, err), nil)
	}
}

func errorMsg(id js.Value, what string, err error) js.Value {
	m := object()
	m.Set("type", "error")
	m.Set("id", id)
	m.Set("what", what)
	m.Set("message", err.Error())
	return m
}

func object() js.Value { return jsObject.New() }

func intOr(v js.Value, def int) int {
	if v.Type() == js.TypeNumber {
		return v.Int()
	}
	return def
}

// post sends msg to the page, transferring the given buffers.
func post(msg js.Value, transfer []any) {
	if transfer == nil {
		global.Call("postMessage", msg)
		return
	}
	global.Call("postMessage", msg, jsArray.New(transfer...))
}

// await blocks the calling goroutine until p settles.
func await(p js.Value) (js.Value, error) {
	type settled struct {
		v   js.Value
		err error
	}
	ch := make(chan settled, 1)
	ok := js.FuncOf(func(_ js.Value, a []js.Value) any { ch <- settled{v: a[0]}; return nil })
	fail := js.FuncOf(func(_ js.Value, a []js.Value) any {
		msg := "rejected"
		if len(a) > 0 {
			msg = a[0].Call("toString").String()
		}
		ch <- settled{err: fmt.Errorf("%s", msg)}
		return nil
	})
	defer ok.Release()
	defer fail.Release()
	jsPromise.Call("resolve", p).Call("then", ok, fail)
	r := <-ch
	return r.v, r.err
}

// load fetches the model file at url, reporting progress, and loads it.
// size, when positive, is the file's size (Content-Length may count
// compressed bytes).
func (s *server) load(id js.Value, url string, size int) error {
	buf, err := fetchModel(url, size)
	if err != nil {
		return err
	}
	return s.install(id, buf, url)
}

// fetchModel downloads the model file at url, posting progress messages.
func fetchModel(url string, size int) ([]byte, error) {
	resp, err := await(global.Call("fetch", url))
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
		msg := object()
		msg.Set("type", "progress")
		msg.Set("what", "weights")
		msg.Set("loaded", len(buf))
		msg.Set("total", total)
		post(msg, nil)
	}
	progress()
	reader := resp.Get("body").Call("getReader")
	last := ms()
	for {
		r, err := await(reader.Call("read"))
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

// onModel loads a model file the user gave the page ({type:"model", id,
// bytes, name}). A file that does not load leaves the current model in use.
func (s *server) onModel(id js.Value, msg js.Value) error {
	b := msg.Get("bytes")
	if b.Type() != js.TypeObject {
		return fmt.Errorf("model: no file bytes")
	}
	buf := make([]byte, b.Get("byteLength").Int())
	js.CopyBytesToGo(buf, jsUint8.New(b))
	name := msg.Get("name")
	source := "your file"
	if name.Type() == js.TypeString && name.String() != "" {
		source = name.String()
	}
	return s.install(id, buf, source)
}

// install loads the model file buf (from source: a URL of the site or the
// user's file name), hands it to the band workers, warms it up and
// announces it with a "ready" message carrying id. On error the model in
// use, if any, stays.
func (s *server) install(id js.Value, buf []byte, source string) error {
	eng, err := engine.Load(buf)
	if err != nil {
		return fmt.Errorf("%s is not a usable model file: %w", source, err)
	}
	eng.UseKernels(s.kernels)
	macs := eng.Config.MACs(eng.InputSize, eng.InputSize)
	loading := object()
	loading.Set("type", "loading")
	loading.Set("id", id)
	loading.Set("macs", macs)
	post(loading, nil) // the page's watchdog now knows the work ahead
	// One deadline for loading the helpers and the warm-up pass together.
	s.due = time.Now().Add(protocol.LoadDeadline(macs))
	if eng.Int8 != nil && len(eng.Bands(len(s.helpers)+1)) > 1 {
		// Every helper gets its copy of the file at once, then all load in
		// parallel, by one shared deadline.
		waits := make([]func() error, len(s.helpers))
		for i, h := range s.helpers {
			waits[i] = h.load(buf)
		}
		for i, w := range waits {
			if err := w(); err != nil {
				fmt.Printf("worker: band worker %d dropped: %v\n", i+1, err)
				continue
			}
			eng.Helpers = append(eng.Helpers, s.helpers[i])
		}
		eng.OnHelperError = func(h engine.Helper, err error) {
			fmt.Printf("worker: a band worker failed, continuing with fewer: %v\n", err)
			h.(*helper).die(err) // terminate it
			s.postEngine()
		}
	}
	s.eng, s.mem = eng, store{} // analyses of the old model cannot be explained by the new one
	inf := newInfo(eng, len(buf))
	inf.Source = source
	inf.WarmupMs = s.warmUp()
	s.warmupMs = inf.WarmupMs
	inf.Kernel = s.engineText()
	info, err := json.Marshal(inf)
	if err != nil {
		return err
	}
	msg := object()
	msg.Set("type", "ready")
	msg.Set("id", id)
	msg.Set("info", jsJSON.Call("parse", string(info)))
	post(msg, nil)
	return nil
}

// engineText says what runs the network, for the model card.
func (s *server) engineText() string {
	if s.eng != nil && s.eng.Int8 == nil {
		return "WebAssembly (pure Go: float32 model), 1 worker"
	}
	n := 1
	if s.eng != nil {
		n = len(s.eng.Bands(len(s.eng.Helpers) + 1))
	}
	if n == 1 {
		return s.kernel + ", 1 worker"
	}
	return fmt.Sprintf("%s, %d workers", s.kernel, n)
}

// postEngine tells the page that the engine changed (a band worker failed).
func (s *server) postEngine() {
	m := object()
	m.Set("type", "engine")
	m.Set("kernel", s.engineText())
	post(m, nil)
}

// onLoadBytes loads the model a band worker's parent sends.
func (s *server) onLoadBytes(msg js.Value) error {
	buf := bytesOf(msg.Get("bytes"))
	eng, err := engine.Load(buf)
	if err != nil {
		return fmt.Errorf("loading the model: %w", err)
	}
	eng.UseKernels(s.kernels)
	s.eng = eng
	if eng.Int8 != nil { // compile and tier up behind the loading screen
		n := eng.InputSize
		eng.Int8.FeatureRows(model.RandomRGB(n, n, 1), n, n, 0, eng.MinBandRows())
	}
	m := object()
	m.Set("type", "ready")
	post(m, nil)
	return nil
}

// onRows computes a block of feature-map rows for the parent worker (band
// workers).
func (s *server) onRows(id js.Value, msg js.Value) error {
	if id.IsNull() {
		return fmt.Errorf("rows: missing numeric id")
	}
	if s.rowsServed++; s.failAfter > 0 && s.rowsServed > s.failAfter {
		return fmt.Errorf("band worker: failing on purpose after %d requests (?failbands)", s.failAfter)
	}
	if s.hangAfter > 0 && s.rowsServed > s.hangAfter {
		hang() // ?testhooks=1&hangbands=N
	}
	data, err := s.block(bytesOf(msg.Get("rgb")), intOr(msg.Get("r0"), -1), intOr(msg.Get("r1"), -1),
		intOr(msg.Get("c0"), -1), intOr(msg.Get("c1"), -1))
	if err != nil {
		return err
	}
	arr := uint8Array(data)
	out := object()
	out.Set("type", "rows")
	out.Set("id", id)
	out.Set("data", arr)
	post(out, []any{arr.Get("buffer")})
	return nil
}

// onBench runs the benchmark (bench in worker.go) and answers with its JSON.
func (s *server) onBench(id js.Value, msg js.Value) error {
	b, err := s.bench(intOr(msg.Get("runs"), 3), ms)
	if err != nil {
		return err
	}
	b.Engine = s.engineText()
	raw, err := json.Marshal(b)
	if err != nil {
		return err
	}
	out := object()
	out.Set("type", "bench")
	out.Set("id", id)
	out.Set("bench", jsJSON.Call("parse", string(raw)))
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

func (s *server) onClassify(id js.Value, msg js.Value) error {
	if id.IsNull() {
		return fmt.Errorf("classify: missing numeric id")
	}
	b := msg.Get("bytes")
	if b.Type() != js.TypeObject {
		return fmt.Errorf("classify: no image bytes")
	}
	img := make([]byte, b.Get("byteLength").Int())
	js.CopyBytesToGo(img, jsUint8.New(b))
	a, m, err := s.classify(id.Int(), img, intOr(msg.Get("topK"), 5), ms)
	if err != nil {
		return err
	}
	postResult(id, a, m)
	return nil
}

func (s *server) onScramble(id js.Value, msg js.Value) error {
	if id.IsNull() {
		return fmt.Errorf("scramble: missing numeric id")
	}
	seed := int64(msg.Get("seed").Float())
	a, m, err := s.scramble(id.Int(), intOr(msg.Get("of"), -1), seed, intOr(msg.Get("topK"), 5), ms)
	if err != nil {
		return err
	}
	postResult(id, a, m)
	return nil
}

func (s *server) onOcclude(id js.Value, msg js.Value) error {
	if id.IsNull() {
		return fmt.Errorf("occlude: missing numeric id")
	}
	rv := msg.Get("rect")
	if rv.Type() != js.TypeObject || rv.Length() != 4 {
		return fmt.Errorf("occlude: rect must be [x0, y0, x1, y1]")
	}
	var rect [4]int
	for i := range rect {
		rect[i] = intOr(rv.Index(i), 0)
	}
	a, m, err := s.occlude(id.Int(), intOr(msg.Get("of"), -1), rect, intOr(msg.Get("topK"), 5), ms)
	if err != nil {
		return err
	}
	postResult(id, a, m)
	return nil
}

func (s *server) onEvidence(id js.Value, msg js.Value) error {
	if id.IsNull() {
		return fmt.Errorf("evidence: missing numeric id")
	}
	c := intOr(msg.Get("class"), -1)
	ev, bias, err := s.evidence(id.Int(), c)
	if err != nil {
		return err
	}
	arr := float32Array(ev)
	out := object()
	out.Set("type", "evidence")
	out.Set("id", id)
	out.Set("class", c)
	out.Set("evidence", arr)
	out.Set("bias", bias)
	post(out, []any{arr.Get("buffer")})
	return nil
}

// postResult sends a "result" message: the JSON metadata plus the evidence
// maps and the model input as transferred typed arrays.
func postResult(id js.Value, a *engine.Analysis, m *resultMsg) {
	meta, err := json.Marshal(m.Meta)
	if err != nil {
		post(errorMsg(id, "result", err), nil)
		return
	}
	out := jsJSON.Call("parse", string(meta))
	out.Set("type", "result")
	out.Set("id", id)
	var transfer []any
	maps := object()
	for _, c := range m.Classes {
		arr := float32Array(m.Maps[c])
		maps.Set(fmt.Sprint(c), arr)
		transfer = append(transfer, arr.Get("buffer"))
	}
	out.Set("evidence", maps)
	rgba := protocol.RGBA(a.Input)
	input := jsClamped.New(len(rgba))
	js.CopyBytesToJS(input, rgba)
	out.Set("input", input)
	transfer = append(transfer, input.Get("buffer"))
	post(out, transfer)
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
