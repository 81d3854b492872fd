package ui

import (
	"math"

	"github.com/vugu/vugu"
	"github.com/vugu/vugu/js"
)

// Heatmap shows a model input with one class's evidence over it. When
// OnHover is set, pointing at the picture (or focusing it and using the
// arrow keys) moves a patch cursor whose receptive field is outlined.
type Heatmap struct {
	A       *Analysis
	Class   int
	Lim     float32
	Opacity float64
	PicID   string // id of the picture (the element holding its canvas), "" for none
	Label   string // accessible description of the picture
	Hover   Cell
	OnHover func(Cell) // nil: not interactive
	// OnRect, when set, lets the user paint: dragging over the picture
	// outlines a rectangle and reports it (model-input pixels x0, y0, x1,
	// y1) when the pointer lifts; a click reports a patch-sized square
	// centred on it; Enter reports the patch under the keyboard cursor.
	OnRect func([4]int)

	Drag   [4]int // the rectangle being dragged, shown while DragOn
	DragOn bool
	dragX  float64 // where the drag started, model-input pixels
	dragY  float64
	// dragging: a drag is under way. The pointer callbacks read and write
	// it themselves: DragOn, which the render shows, is set by a goroutine
	// that waits for the render lock, possibly after the pointer lifted.
	dragging bool
	ee       vugu.EventEnv
	el       js.Value   // the element the pointer listeners are on
	on       []listener // those listeners, removed from el by detach
	funcs    []js.Func  // their callbacks, released by detach
	last     Cell       // the last position reported
	pending  bool       // a goroutine will apply last
}

// Init keeps the event environment for pointer callbacks.
func (c *Heatmap) Init(ctx vugu.InitCtx) { c.ee = ctx.EventEnv() }

// Destroy removes the pointer listeners and releases their callbacks.
func (c *Heatmap) Destroy() { c.detach() }

// listener is one event listener attach added.
type listener struct {
	event string
	f     js.Func
}

// detach removes the pointer listeners from the element they are on and
// releases them.
func (c *Heatmap) detach() {
	for _, l := range c.on {
		c.el.Call("removeEventListener", l.event, l.f)
	}
	for _, f := range c.funcs {
		f.Release()
	}
	c.on, c.funcs, c.el = nil, nil, js.Value{}
}

// IDAttr is the picture's id attribute (omitted when empty).
func (c *Heatmap) IDAttr() any {
	if c.PicID == "" {
		return nil
	}
	return c.PicID
}

// TabIndex makes an interactive heatmap focusable.
func (c *Heatmap) TabIndex() any {
	if c.OnHover == nil {
		return nil
	}
	return "0"
}

// BoxCSS positions the outline of the hovered patch.
func (c *Heatmap) BoxCSS() string {
	if c.A == nil || !c.Hover.OK {
		return "display: none"
	}
	b := c.A.Geo.CellBox(c.Hover.I, c.Hover.J)
	return BoxStyle([4]int{b.X0, b.Y0, b.X1, b.Y1}, c.A.Geo.Size)
}

// Tiles outlines the tiles of a scrambled input.
func (c *Heatmap) Tiles() []string {
	if c.A == nil || c.A.Scramble == nil {
		return nil
	}
	s := c.A.Scramble
	var out []string
	for i := 0; i < s.N; i++ {
		for j := 0; j < s.N; j++ {
			x, y := s.Off+j*s.Tile, s.Off+i*s.Tile
			out = append(out, BoxStyle([4]int{x, y, x + s.Tile, y + s.Tile}, c.A.Geo.Size))
		}
	}
	return out
}

// DragCSS positions the outline of the rectangle being dragged.
func (c *Heatmap) DragCSS() string {
	if c.A == nil || !c.DragOn {
		return "display: none"
	}
	return BoxStyle(c.Drag, c.A.Geo.Size)
}

// PatchRect is the patch-sized square centred on model-input point (x, y),
// the rectangle a click paints.
func PatchRect(x, y float64, patch, size int) [4]int {
	x0 := int(math.Round(x - float64(patch)/2))
	y0 := int(math.Round(y - float64(patch)/2))
	x0, y0 = max(0, min(size-patch, x0)), max(0, min(size-patch, y0))
	return [4]int{x0, y0, x0 + patch, y0 + patch}
}

// dragRect is the rectangle between two points, in whole pixels; a drag
// shorter than 3 pixels is a click.
func dragRect(x0, y0, x1, y1 float64, patch, size int) [4]int {
	if math.Abs(x1-x0) < 3 && math.Abs(y1-y0) < 3 {
		return PatchRect(x0, y0, patch, size)
	}
	clamp := func(v float64) int { return max(0, min(size, int(math.Round(v)))) }
	return [4]int{clamp(min(x0, x1)), clamp(min(y0, y1)), clamp(max(x0, x1)), clamp(max(y0, y1))}
}

// attach listens to the pointer on the picture directly: vugu's own event
// plumbing serialises every event, too slow for pointermove. vugu (v0.4)
// calls vg-js-create on every render, not only when it creates the
// element, so the listeners are added once per element: again only when
// vugu gave the component another element (the old one's are removed).
func (c *Heatmap) attach(pic js.Value) {
	if c.el.Truthy() && js.Global().Get("Object").Call("is", c.el, pic).Bool() {
		return
	}
	c.detach()
	c.el = pic
	at := func(e js.Value) (float64, float64, bool) {
		r := pic.Call("getBoundingClientRect")
		w, h := r.Get("width").Float(), r.Get("height").Float()
		if w <= 0 || h <= 0 || c.A == nil {
			return 0, 0, false
		}
		size := float64(c.A.Geo.Size)
		return (e.Get("clientX").Float() - r.Get("left").Float()) / w * size,
			(e.Get("clientY").Float() - r.Get("top").Float()) / h * size, true
	}
	paint := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if c.OnRect == nil || len(args) == 0 {
			return nil
		}
		e := args[0]
		x, y, ok := at(e)
		if !ok {
			return nil
		}
		g := c.A.Geo
		switch e.Get("type").String() {
		case "pointerdown":
			c.dragX, c.dragY, c.dragging = x, y, true
			c.update(func() { c.DragOn, c.Drag = true, dragRect(x, y, x, y, g.Patch, g.Size) })
			pic.Call("setPointerCapture", e.Get("pointerId"))
		case "pointermove":
			if c.dragging {
				r := dragRect(c.dragX, c.dragY, x, y, g.Patch, g.Size)
				c.update(func() { c.Drag = r })
			}
		case "pointerup":
			if c.dragging {
				c.dragging = false
				r := dragRect(c.dragX, c.dragY, x, y, g.Patch, g.Size)
				c.update(func() { c.DragOn = false; c.OnRect(r) })
			}
		case "pointercancel":
			c.dragging = false
			c.update(func() { c.DragOn = false })
		}
		return nil
	})
	c.funcs = append(c.funcs, paint)
	for _, ev := range []string{"pointerdown", "pointermove", "pointerup", "pointercancel"} {
		c.listen(ev, paint)
	}
	move := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if c.OnHover == nil || c.A == nil || len(args) == 0 {
			return nil
		}
		e := args[0]
		r := pic.Call("getBoundingClientRect")
		w, h := r.Get("width").Float(), r.Get("height").Float()
		if w <= 0 || h <= 0 {
			return nil
		}
		size := float64(c.A.Geo.Size)
		x := (e.Get("clientX").Float() - r.Get("left").Float()) / w * size
		y := (e.Get("clientY").Float() - r.Get("top").Float()) / h * size
		i, j, ok := c.A.Geo.CellAt(x, y)
		// Leaving with a mouse hides the cursor; a finger lifting keeps it.
		left := e.Get("type").String() == "pointerleave" && e.Get("pointerType").String() == "mouse"
		if left {
			ok = false
		}
		c.set(Cell{I: i, J: j, OK: ok}, ok || left)
		return nil
	})
	c.funcs = append(c.funcs, move)
	for _, ev := range []string{"pointermove", "pointerdown", "pointerleave"} {
		c.listen(ev, move)
	}
}

// listen adds f as the listener of event on the attached element.
func (c *Heatmap) listen(event string, f js.Func) {
	c.el.Call("addEventListener", event, f)
	c.on = append(c.on, listener{event: event, f: f})
}

// update applies f with the render lock held (from a JavaScript callback).
func (c *Heatmap) update(f func()) {
	go func() {
		c.ee.Lock()
		defer c.ee.UnlockRender()
		f()
	}()
}

// set reports a new cursor position from a JavaScript callback (the render
// lock is not held there). Positions outside every patch centre keep the
// last patch unless the pointer left. Moves that arrive while a render is
// pending are coalesced: only the latest position is applied.
func (c *Heatmap) set(cell Cell, apply bool) {
	if !apply || cell == c.last {
		return
	}
	c.last = cell
	if c.pending {
		return
	}
	c.pending = true
	go func() {
		c.ee.Lock()
		defer c.ee.UnlockRender()
		c.pending = false
		if c.OnHover != nil {
			c.OnHover(c.last)
		}
	}()
}

// OnKey moves the patch cursor with the arrow keys; Escape hides it.
func (c *Heatmap) OnKey(e vugu.DOMEvent) {
	if c.OnHover == nil || c.A == nil {
		return
	}
	h := c.Hover
	if !h.OK {
		h = Cell{I: c.A.Geo.H / 2, J: c.A.Geo.W / 2, OK: true}
	}
	switch e.PropString("key") {
	case "ArrowUp":
		h.I--
	case "ArrowDown":
		h.I++
	case "ArrowLeft":
		h.J--
	case "ArrowRight":
		h.J++
	case "Home":
		h.I, h.J = 0, 0
	case "Escape":
		h = Cell{}
	case "Enter", " ":
		if c.OnRect != nil && c.Hover.OK {
			e.PreventDefault()
			b := c.A.Geo.CellBox(c.Hover.I, c.Hover.J)
			c.OnRect([4]int{b.X0, b.Y0, b.X1, b.Y1})
		}
		return
	default:
		return
	}
	e.PreventDefault()
	c.last = h
	c.OnHover(h)
}
