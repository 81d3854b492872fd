package ui

import (
	"fmt"
	"math"

	"github.com/vugu/vugu/js"

	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/ui/viz"
)

// Live mode of the camera: every animation frame that finds no frame in
// flight draws the centre square of the video, resized by the browser to
// the model's input size, onto a canvas and hands its RGBA pixels to Root
// (OnLiveFrame), which sends them to the worker as a protocol.LiveRequest
// only when the worker is idle. Frames that come while one is in flight
// are skipped, never queued. Each answer paints the top class's evidence
// over the video. Freeze sends the current frame (its centre square, full
// resolution, as a PNG) through the normal, exact classify path.

// LiveFrameFunc sends one live frame (size x size RGBA pixels, a
// Uint8ClampedArray) to the worker when it is idle and reports whether it
// did; done gets the answer (or an error message) with the lock held.
type LiveFrameFunc func(rgba js.Value, size int, done func(r *protocol.LiveReply, ev []float32, err string)) bool

// LiveState is the live mode of the camera panel.
type LiveState struct {
	On       bool
	Frames   int     // frames answered since live mode started
	Skipped  int     // animation frames skipped because one was in flight
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
	overlay  js.Value // the canvas over the video
}

// liveSession is one run of live mode's animation-frame loop.
type liveSession struct {
	raf     js.Func
	stopped bool
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
	Err         string  `json:"err,omitempty"`
}

func (c *ImageInput) publishLive() {
	l := &c.Camera.Live
	setJS(js.Global(), "bagnetLive", toJS(LiveStats{On: l.On, Frames: l.Frames, Skipped: l.Skipped, FPS: l.FPS,
		LastTop: l.Top, InferMs: l.InferMs, InFlight: l.inFlight, Drawn: l.Drawn, MeanInferMs: l.sumInfer / float64(max(1, l.Frames)), Err: l.Err}))
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
	*l = LiveState{On: true}
	doc := js.Global().Get("document")
	l.grab = doc.Call("createElement", "canvas")
	l.grab.Set("width", c.Model.InputSize)
	l.grab.Set("height", c.Model.InputSize)
	sess := &liveSession{}
	sess.raf = js.FuncOf(func(js.Value, []js.Value) any {
		go c.liveTick(sess)
		return nil
	})
	l.sess = sess
	js.Global().Call("requestAnimationFrame", sess.raf)
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
	l.sess.stopped = true // its next tick releases it
	c.publishLive()
}

// liveTick sends the current video frame unless one is in flight, and
// asks for the next animation frame.
func (c *ImageInput) liveTick(sess *liveSession) {
	c.ee.Lock()
	defer c.ee.UnlockOnly()
	l := &c.Camera.Live
	if sess.stopped || !l.On || l.sess != sess {
		sess.raf.Release() // no frame of it is requested any more
		return
	}
	js.Global().Call("requestAnimationFrame", sess.raf)
	c.liveSend()
}

// liveSend sends the video's current frame unless one is in flight.
// Called with the lock held, in live mode.
func (c *ImageInput) liveSend() {
	l := &c.Camera.Live
	if l.inFlight {
		l.Skipped++
		return
	}
	v := c.Camera.video
	if !v.Truthy() || c.Model == nil {
		return
	}
	vw, vh := v.Get("videoWidth").Int(), v.Get("videoHeight").Int()
	if vw == 0 || vh == 0 {
		return
	}
	n := c.Model.InputSize
	if l.grab.Get("width").Int() != n { // another model was picked
		l.grab.Set("width", n)
		l.grab.Set("height", n)
	}
	s := min(vw, vh)
	ctx := l.grab.Call("getContext", "2d", toJS(map[string]bool{"willReadFrequently": true}))
	ctx.Call("drawImage", v, (vw-s)/2, (vh-s)/2, s, s, 0, 0, n, n)
	data := ctx.Call("getImageData", 0, 0, n, n).Get("data")
	if c.OnLiveFrame(data, n, c.liveAnswer) {
		l.inFlight = true
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
	defer c.publishLive()
	if msg != "" {
		l.Err = "Live mode: " + msg
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
	if len(r.Top) > 0 {
		l.Top = fmt.Sprintf("%s (%s)", r.Top[0].Name, Percent(float64(r.Top[0].Prob)))
	}
	g := viz.Geometry{Size: c.Model.InputSize, Patch: c.Model.Patch, Stride: c.Model.Stride, H: r.Map.H, W: r.Map.W}
	px, err := LiveOverlay(g, ev, viz.Limit(ev), 0.75)
	if err != nil {
		l.Err = "Live mode: " + err.Error()
		return
	}
	if o := l.overlay; o.Truthy() {
		putRGBA(o, fmt.Sprint("live ", l.Frames), g.Size, g.Size, px)
		l.Drawn++
	}
	// The next frame goes as soon as the worker is free (once this answer
	// is applied), not at the next animation frame.
	sess := l.sess
	go func() {
		c.ee.Lock()
		defer c.ee.UnlockOnly()
		if l := &c.Camera.Live; l.On && l.sess == sess {
			c.liveSend()
		}
	}()
	// The page is not rendered again for a live frame (Root.liveQuiet).
	if el := js.Global().Get("document").Call("getElementById", "live-status"); el.Truthy() {
		el.Set("textContent", c.LiveText())
	}
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
