package ui

import (
	"testing"

	"github.com/vugu/vugu/js"
)

// TestFileQueueWindow drives a run's queue as the batch and teaching do:
// items are taken one at a time (never while a file is being read), at
// most runWindow requests wait for answers, in item order, and the run
// finishes once, when every item is taken and done.
func TestFileQueueWindow(t *testing.T) {
	const n = 5
	q := &fileQueue{files: make([]js.Value, n), ids: map[int]int{}}
	done, finished, nextID := 0, 0, 1
	var order []int
	finish := func() { finished++ }
	// fill takes and "sends" items as the run's next (batchNext) does:
	// each take starts a read that completes at once here, then the
	// next is tried.
	fill := func() {
		for {
			i, _, ok := q.step(true, done == n, finish)
			if !ok {
				return
			}
			q.reading = true
			if _, _, again := q.step(true, false, finish); again {
				t.Fatalf("item taken while item %d's file is read", i)
			}
			q.reading = false
			q.ids[nextID] = i
			nextID++
			order = append(order, i)
			if len(q.ids) > runWindow {
				t.Fatalf("%d requests outstanding, want at most %d", len(q.ids), runWindow)
			}
		}
	}
	fill()
	if len(q.ids) != runWindow {
		t.Fatalf("after the start %d requests outstanding, want %d", len(q.ids), runWindow)
	}
	for id := 1; done < n; id++ {
		if _, ok := q.ids[id]; !ok {
			t.Fatalf("request %d not outstanding (ids %v)", id, q.ids)
		}
		delete(q.ids, id) // its answer
		done++
		fill()
	}
	for k, i := range order {
		if i != k {
			t.Fatalf("sent in order %v, want 0..%d", order, n-1)
		}
	}
	if len(order) != n || finished != 1 {
		t.Errorf("sent %d of %d, finished %d times, want once", len(order), n, finished)
	}
	if _, _, ok := q.step(false, false, finish); ok {
		t.Error("a stopped run took an item")
	}
}
