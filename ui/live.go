package ui

import (
	"fmt"
	"math"
	"strings"

	"github.com/vugu/vugu/js"

	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/ui/viz"
)

// Live mode of the camera: each new video frame (requestVideoFrameCallback;
// requestAnimationFrame where there is none) is drawn, its centre square
// resized by the browser to the model's input size, onto a canvas, and its
// RGBA pixels go to the worker through Root (OnLiveFrame) as a
// protocol.LiveRequest when nothing is in flight. While one frame is in
// flight, the newest video frame is read ahead (capture overlaps the
// worker's pass) and kept, replacing an older one: frames are skipped,
// never queued. When the answer comes the frame read ahead goes at once,
// before the answer is drawn, so the worker waits only for the messages'
// round trip. Each answer paints the top class's evidence over the video
// on a canvas of its own, outside vugu's render: the page is not rendered
// again per frame. Freeze sends the current frame (its centre square, full
// resolution, as a PNG) through the normal, exact classify path.

// LiveFrameFunc sends one live frame (size x size RGBA pixels, a
// Uint8ClampedArray) to the worker when it is idle and reports whether it
// did; done gets the answer (or an error message) with the lock held.
type LiveFrameFunc func(rgba js.Value, size int, done func(r *protocol.LiveReply, ev []float32, err string)) bool

// LiveState is the live mode of the camera panel.
type LiveState struct {
	On       bool
	Frames   int     // frames answered since live mode started
	Skipped  int     // video frames not sent: read while one was in flight, then replaced by a newer one
	FPS      float64 // answered frames per second
	Drawn    int     // frames drawn over the video
	Top      string  // the top class of the last frame, with its probability
	InferMs  float64 // the network's time on the last frame, in the worker
	sumInfer float64 // the network's time on every frame answered
	Err      string
	inFlight bool
	t0       float64 // performance.now() of the first answer
	sess     *liveSession
	grab     js.Value // the canvas frames are resized on
	grabCtx  js.Value // its 2d context
	next     js.Value // a frame read ahead while one is in flight (null: none)
	nextCap  [2]float64
	overlay  js.Value // the canvas over the video
	prof     liveProfile
}

// liveSession is one run of live mode's loop over the video's frames.
type liveSession struct {
	tick    js.Func
	stopped bool
	video   js.Value // the video element the pending request is on; undefined: an animation frame
	handle  js.Value // the pending request's handle
}

// request asks for a tick at the next video frame of v, or at the next
// animation frame where v cannot say when one is shown.
func (s *liveSession) request(v js.Value) {
	if v.Truthy() && v.Get("requestVideoFrameCallback").Truthy() {
		s.video, s.handle = v, v.Call("requestVideoFrameCallback", s.tick)
		return
	}
	s.video, s.handle = js.Undefined(), js.Global().Call("requestAnimationFrame", s.tick)
}

// stop cancels the pending request and releases the tick.
func (s *liveSession) stop() {
	s.stopped = true
	if s.video.Truthy() {
		s.video.Call("cancelVideoFrameCallback", s.handle)
	} else if s.handle.Truthy() {
		js.Global().Call("cancelAnimationFrame", s.handle)
	}
	s.tick.Release()
}

// LiveStats is window.bagnetLive, for scripts and tests.
type LiveStats struct {
	On       bool    `json:"on"`
	Frames   int     `json:"frames"`
	Skipped  int     `json:"skipped"`
	FPS      float64 `json:"fps"`
	LastTop  string  `json:"lastTop"`
	InferMs  float64 `json:"inferMs"`
	InFlight bool    `json:"inFlight"`
	Drawn    int     `json:"drawn"`
	// MeanInferMs is the network's mean time per frame in the worker:
	// 1000/MeanInferMs is the frame rate the engine alone would allow.
	MeanInferMs float64 `json:"meanInferMs"`
	// Stages is where a frame's time goes (medians of the last frames).
	Stages LiveStages `json:"stages"`
	Err    string     `json:"err,omitempty"`
}

func (c *ImageInput) publishLive() {
	l := &c.Camera.Live
	setJS(js.Global(), "bagnetLive", toJS(LiveStats{On: l.On, Frames: l.Frames, Skipped: l.Skipped, FPS: l.FPS,
		LastTop: l.Top, InferMs: l.InferMs, InFlight: l.inFlight, Drawn: l.Drawn, MeanInferMs: l.sumInfer / float64(max(1, l.Frames)),
		Stages: l.prof.medians(), Err: l.Err}))
}

// LiveText is the live mode's line under the video.
func (c *ImageInput) LiveText() string {
	l := &c.Camera.Live
	if l.Err != "" {
		return l.Err
	}
	if l.Frames == 0 {
		return "Starting live mode…"
	}
	return fmt.Sprintf("%s · %.1f frames/s · network %.0f ms", l.Top, l.FPS, l.InferMs)
}

// StartLive starts live mode on the open camera.
func (c *ImageInput) StartLive() {
	l := &c.Camera.Live
	if l.On || !c.Camera.Open || c.OnLiveFrame == nil || c.Model == nil {
		return
	}
	*l = LiveState{On: true, next: js.Null()}
	doc := js.Global().Get("document")
	l.grab = doc.Call("createElement", "canvas")
	l.grab.Set("width", c.Model.InputSize)
	l.grab.Set("height", c.Model.InputSize)
	l.grabCtx = l.grab.Call("getContext", "2d", toJS(map[string]bool{"willReadFrequently": true}))
	sess := &liveSession{}
	sess.tick = js.FuncOf(func(js.Value, []js.Value) any {
		go c.liveTick(sess)
		return nil
	})
	l.sess = sess
	sess.request(c.Camera.video)
	c.publishLive()
	c.status("Live mode: the evidence for the top class follows the camera.")
}

// AttachOverlay keeps the canvas drawn over the video.
func (c *ImageInput) AttachOverlay(v js.Value) { c.Camera.Live.overlay = v }

// stopLive ends live mode (the camera stays as it is).
func (c *ImageInput) stopLive() {
	l := &c.Camera.Live
	if !l.On {
		return
	}
	l.On = false
	l.sess.stop()
	l.next = js.Null()
	c.publishLive()
}

// liveTick runs at each new video frame: it sends the frame when none is
// in flight, else reads it ahead (liveRead), and asks for the next one.
func (c *ImageInput) liveTick(sess *liveSession) {
	c.ee.Lock()
	defer c.ee.UnlockOnly()
	l := &c.Camera.Live
	if sess.stopped || !l.On || l.sess != sess {
		return
	}
	sess.request(c.Camera.video)
	if l.inFlight {
		if l.next.Truthy() {
			l.Skipped++ // replaced by a newer frame, never sent
		}
		l.next, l.nextCap = c.liveRead()
		return
	}
	l.next = js.Null()
	if px, t := c.liveRead(); px.Truthy() {
		c.liveSend(px, t)
	}
}

// liveRead draws the video's centre square resized to the model's input
// size and returns its RGBA pixels (a Uint8ClampedArray; null when the
// video has no picture) and the clock before and after.
func (c *ImageInput) liveRead() (js.Value, [2]float64) {
	l := &c.Camera.Live
	v := c.Camera.video
	if !v.Truthy() || c.Model == nil {
		return js.Null(), [2]float64{}
	}
	vw, vh := v.Get("videoWidth").Int(), v.Get("videoHeight").Int()
	if vw == 0 || vh == 0 {
		return js.Null(), [2]float64{}
	}
	n := c.Model.InputSize
	if l.grab.Get("width").Int() != n { // another model was picked
		l.grab.Set("width", n)
		l.grab.Set("height", n)
	}
	x, y, side := liveSource(c.Model.Resize, n, vw, vh)
	t0 := epochMs()
	l.grabCtx.Call("drawImage", v, x, y, side, side, 0, 0, n, n)
	data := l.grabCtx.Call("getImageData", 0, 0, n, n).Get("data")
	return data, [2]float64{t0, epochMs()}
}

// liveSource is the square of a vw x vh video frame that live mode resizes
// to the model's n x n input: the frame's centre square (what Freeze
// sends), less what the model's preprocessing (resize mode) crops from a
// square. In crop mode that is its centre n/CropShortSide(n): the same
// pixels Freeze's exact analysis sees. x, y and side are in video pixels.
func liveSource(resize string, n, vw, vh int) (x, y, side float64) {
	s := min(vw, vh)
	t := liveTransform(resize, n, s)
	x0, y0, x1, _ := t.ToSourceF(0, 0, float64(n), float64(n))
	return float64((vw-s)/2) + x0, float64((vh-s)/2) + y0, x1 - x0
}

// liveTransform is the model's preprocessing of an s x s square
// (preprocess.NewTransform's geometry).
func liveTransform(resize string, n, s int) protocol.Transform {
	t := protocol.Transform{Mode: resize, Size: n, SrcW: s, SrcH: s, ResizedW: n, ResizedH: n}
	if strings.EqualFold(strings.TrimSpace(resize), "crop") {
		r := protocol.CropShortSide(n)
		t.ResizedW, t.ResizedH, t.OffX, t.OffY = r, r, (r-n)/2, (r-n)/2
	}
	return t
}

// LiveOverlayCSS places the overlay over the part of the video's centre
// square that the model sees (all of it, unless the model crops).
func (c *ImageInput) LiveOverlayCSS() string {
	if c.Model == nil || !strings.EqualFold(strings.TrimSpace(c.Model.Resize), "crop") {
		return ""
	}
	const s = 1 << 20 // any square: the fractions are what matter
	t := liveTransform(c.Model.Resize, c.Model.InputSize, s)
	x0, y0, x1, _ := t.ToSourceF(0, 0, float64(t.Size), float64(t.Size))
	return fmt.Sprintf("inset: auto; left: %.4f%%; top: %.4f%%; width: %.4f%%; height: %.4f%%", 100*x0/s, 100*y0/s, 100*(x1-x0)/s, 100*(x1-x0)/s)
}

// liveSend sends a frame's pixels (liveRead's) unless one is in flight or
// the worker is busy with other work. Called with the lock held.
func (c *ImageInput) liveSend(px js.Value, t [2]float64) {
	l := &c.Camera.Live
	n := c.Model.InputSize
	if l.inFlight || px.Get("length").Int() != n*n*4 { // or read before a model switch
		l.Skipped++
		return
	}
	if c.OnLiveFrame(px, n, c.liveAnswer) {
		l.inFlight = true
		l.prof.sent(t[0], t[1], epochMs())
	} else {
		l.Skipped++
	}
}

// liveAnswer shows a live frame's answer (called with the lock held).
func (c *ImageInput) liveAnswer(r *protocol.LiveReply, ev []float32, msg string) {
	l := &c.Camera.Live
	l.inFlight = false
	if !l.On {
		return
	}
	answered := epochMs()
	if msg != "" {
		l.Err = "Live mode: " + msg
		c.publishLive()
		return
	}
	t := now()
	if l.Frames == 0 {
		l.t0 = t
	}
	l.Frames++
	if t > l.t0 {
		l.FPS = float64(l.Frames-1) * 1000 / (t - l.t0)
	}
	l.InferMs = r.InferMs
	l.sumInfer += r.InferMs
	l.prof.answer(l.Frames, answered, r.Times)
	if len(r.Top) > 0 {
		l.Top = fmt.Sprintf("%s (%s)", r.Top[0].Name, Percent(float64(r.Top[0].Prob)))
	}
	g := viz.Geometry{Size: c.Model.InputSize, Patch: c.Model.Patch, Stride: c.Model.Stride, H: r.Map.H, W: r.Map.W}
	// The frame read ahead goes as soon as the worker is free (once this
	// answer is applied, after the lock is released), and only then is
	// this answer drawn: the drawing overlaps the worker's next pass.
	sess, frames := l.sess, l.Frames
	go func() {
		c.ee.Lock()
		defer c.ee.UnlockOnly()
		l := &c.Camera.Live
		if !l.On || l.sess != sess {
			return
		}
		if px := l.next; px.Truthy() && !l.inFlight {
			l.next = js.Null()
			c.liveSend(px, l.nextCap)
		}
		c.liveDraw(g, ev, frames)
	}()
}

// liveDraw paints frame's evidence over the video and updates the status
// line; the page is not rendered again for a live frame (Root.liveQuiet).
func (c *ImageInput) liveDraw(g viz.Geometry, ev []float32, frame int) {
	l := &c.Camera.Live
	px, err := LiveOverlay(g, ev, viz.Limit(ev), 0.75)
	if err != nil {
		l.Err = "Live mode: " + err.Error()
		c.publishLive()
		return
	}
	if o := l.overlay; o.Truthy() {
		putRGBA(o, fmt.Sprint("live ", frame), g.Size, g.Size, px)
		l.Drawn++
	}
	if el := js.Global().Get("document").Call("getElementById", "live-status"); el.Truthy() {
		el.Set("textContent", c.LiveText())
	}
	l.prof.drawn(frame, epochMs())
	c.publishLive()
}

// LiveOverlay is a transparent Size x Size RGBA image that paints each
// cell's central Stride x Stride block in the colour of its evidence
// (viz.Diverging with lim) with the weight viz.Alpha(v, lim, opacity),
// to lay over the video.
func LiveOverlay(g viz.Geometry, ev []float32, lim float32, opacity float64) ([]uint8, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if len(ev) != g.H*g.W {
		return nil, fmt.Errorf("the evidence map has %d values, want %dx%d", len(ev), g.H, g.W)
	}
	n := g.Size
	out := make([]uint8, n*n*4)
	off := int(math.Floor(float64(g.Patch-g.Stride) / 2))
	for i := 0; i < g.H; i++ {
		for j := 0; j < g.W; j++ {
			v := ev[i*g.W+j]
			col := viz.Diverging(v, lim)
			a := uint8(math.Round(255 * viz.Alpha(v, lim, opacity)))
			for y := off + i*g.Stride; y < off+(i+1)*g.Stride && y < n; y++ {
				for x := off + j*g.Stride; x < off+(j+1)*g.Stride && x < n; x++ {
					p := out[(y*n+x)*4:]
					p[0], p[1], p[2], p[3] = col.R, col.G, col.B, a
				}
			}
		}
	}
	return out, nil
}

// Freeze opens the current frame (its centre square, as shown) in the full
// analysis: a PNG through the normal classify path, and ends live mode.
func (c *ImageInput) Freeze() {
	v := c.Camera.video
	if !v.Truthy() {
		return
	}
	vw, vh := v.Get("videoWidth").Int(), v.Get("videoHeight").Int()
	if vw == 0 || vh == 0 {
		c.status("The camera has no picture yet.")
		return
	}
	s := min(vw, vh)
	canvas := js.Global().Get("document").Call("createElement", "canvas")
	canvas.Set("width", s)
	canvas.Set("height", s)
	canvas.Call("getContext", "2d").Call("drawImage", v, (vw-s)/2, (vh-s)/2, s, s, 0, 0, s, s)
	c.CloseCamera()
	c.photo(canvas)
}

// LiveBoxClass is the video box's class: a square crop in live mode.
func (c *ImageInput) LiveBoxClass() string {
	if c.Camera.Live.On {
		return "live-box live"
	}
	return "live-box"
}
