package ui

import (
	"strings"
	"testing"

	"github.com/bagnetweb/bagnet/protocol"
)

// An occlusion painted while the page is busy is held, the latest
// replacing an earlier one, and the status line says so; one painted on an
// image that was replaced meanwhile is not applied, and the status says
// that. (Sending a held edit is TestOcclusionWhileBusy's, in a browser.)
func TestHeldEdit(t *testing.T) {
	c := &Root{Info: &protocol.Info{}, State: StateWorking, Cur: &Analysis{ID: 3}}
	c.Occlude([4]int{1, 2, 3, 4})
	if c.held == nil || c.held.rect != [4]int{1, 2, 3, 4} || c.held.of != 3 {
		t.Fatalf("held %+v, want the rectangle on image 3", c.held)
	}
	if !strings.Contains(c.Status, "when the current work is done") {
		t.Errorf("status %q does not say the rectangle waits", c.Status)
	}
	c.Occlude([4]int{5, 6, 7, 8})
	if c.held.rect != [4]int{5, 6, 7, 8} || !strings.Contains(c.Status, "replaces") {
		t.Errorf("held %+v, status %q: want the latest rectangle, replacing the first", c.held, c.Status)
	}
	c.sendHeldEdit() // still busy: kept
	if c.held == nil {
		t.Fatal("the held edit went while the page was busy")
	}
	c.State, c.Cur = StateDone, &Analysis{ID: 9} // another image came
	c.sendHeldEdit()
	if c.held != nil || !strings.Contains(c.Status, "not applied") {
		t.Errorf("held %+v, status %q: want the edit dropped, saying so", c.held, c.Status)
	}
}
