// Package geom holds the project's one rectangle type. Receptive fields
// are whole model-input pixels (Rect[int]); mapped back through the
// preprocessing onto a source image they become fractional
// (Rect[float64]). It imports nothing, so every package, the browser's
// included, can use it.
package geom

// Rect is the half-open rectangle [X0, X1) x [Y0, Y1) in pixels; pixel
// (x, y) occupies [x, x+1) x [y, y+1).
type Rect[T int | float64] struct{ X0, Y0, X1, Y1 T }

// Dx and Dy are the width and the height.
func (r Rect[T]) Dx() T { return r.X1 - r.X0 }
func (r Rect[T]) Dy() T { return r.Y1 - r.Y0 }

// Empty reports whether r holds no pixel.
func (r Rect[T]) Empty() bool { return r.X0 >= r.X1 || r.Y0 >= r.Y1 }

// Overlaps reports whether r and s share a pixel.
func (r Rect[T]) Overlaps(s Rect[T]) bool {
	return !r.Empty() && !s.Empty() && r.X0 < s.X1 && s.X0 < r.X1 && r.Y0 < s.Y1 && s.Y0 < r.Y1
}

// Intersect is the part of r inside s (empty when they do not overlap).
func (r Rect[T]) Intersect(s Rect[T]) Rect[T] {
	return Rect[T]{max(r.X0, s.X0), max(r.Y0, s.Y0), min(r.X1, s.X1), min(r.Y1, s.Y1)}
}

// Cell is the receptive field of evidence-map cell (i, j) (row i, column j)
// of a bag-of-patches network whose patches are patch pixels wide and
// stride pixels apart: [stride*j, stride*j+patch) x [stride*i, stride*i+patch).
// The engine (model.Config.CellBox) and the page (viz.Geometry.CellBox)
// both use it.
func Cell(i, j, stride, patch int) Rect[int] {
	return Rect[int]{stride * j, stride * i, stride*j + patch, stride*i + patch}
}
