package geom

import "testing"

func TestRect(t *testing.T) {
	a := Rect[int]{0, 0, 10, 5}
	b := Rect[int]{8, 4, 20, 9}
	if !a.Overlaps(b) || a.Intersect(b) != (Rect[int]{8, 4, 10, 5}) || a.Dx() != 10 || a.Dy() != 5 {
		t.Errorf("%v and %v", a, b)
	}
	c := Rect[int]{10, 0, 12, 5} // touches a's right edge: half-open, no shared pixel
	if a.Overlaps(c) || !a.Intersect(c).Empty() {
		t.Errorf("%v overlaps %v", a, c)
	}
	f := Rect[float64]{0.5, 0.5, 1.5, 1}
	if f.Dx() != 1 || f.Empty() || (Rect[float64]{1, 1, 1, 2}).Overlaps(f) {
		t.Errorf("%v", f)
	}
}

func TestCell(t *testing.T) {
	// BagNet-33, cell (row 2, column 3): x 24-56, y 16-48.
	if c := Cell(2, 3, 8, 33); c != (Rect[int]{24, 16, 57, 49}) {
		t.Errorf("Cell(2, 3) = %v", c)
	}
}
