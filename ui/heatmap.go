package ui

import (
	"github.com/vugu/vugu"
	"github.com/vugu/vugu/js"
)

// Heatmap shows a model input with one class's evidence over it. When
// OnHover is set, pointing at the picture (or focusing it and using the
// arrow keys) moves a patch cursor whose receptive field is outlined.
type Heatmap struct {
	A        *Analysis
	Class    int
	Lim      float32
	Opacity  float64
	CanvasID string // id of the canvas, "" for none
	Label    string // accessible description of the picture
	Hover    Cell
	OnHover  func(Cell) // nil: not interactive

	ee      vugu.EventEnv
	funcs   []js.Func
	last    Cell // the last position reported
	pending bool // a goroutine will apply last
}

// Init keeps the event environment for pointer callbacks.
func (c *Heatmap) Init(ctx vugu.InitCtx) { c.ee = ctx.EventEnv() }

// Destroy releases the pointer callbacks.
func (c *Heatmap) Destroy() {
	for _, f := range c.funcs {
		f.Release()
	}
	c.funcs = nil
}

// IDAttr is the canvas id attribute (omitted when empty).
func (c *Heatmap) IDAttr() any {
	if c.CanvasID == "" {
		return nil
	}
	return c.CanvasID
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

// attach listens to the pointer on the canvas directly: vugu's own event
// plumbing serialises every event, too slow for pointermove.
func (c *Heatmap) attach(canvas js.Value) {
	move := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if c.OnHover == nil || c.A == nil || len(args) == 0 {
			return nil
		}
		e := args[0]
		r := canvas.Call("getBoundingClientRect")
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
		canvas.Call("addEventListener", ev, move)
	}
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
	default:
		return
	}
	e.PreventDefault()
	c.last = h
	c.OnHover(h)
}
