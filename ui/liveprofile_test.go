package ui

import (
	"testing"

	"github.com/bagnetweb/bagnet/protocol"
)

// The stages of a live frame are the differences of the page's and the
// worker's clock readings, and LiveStages holds their medians; a frame
// that is not the one drawn, or has no worker times, is not counted.
func TestLiveProfile(t *testing.T) {
	var p liveProfile
	// Three frames 40 ms apart; the third's network pass is slow.
	for k, network := range []float64{30, 30, 60} {
		t0 := 1000 + 40*float64(k)
		p.sent(t0, t0+2, t0+3)
		w := &protocol.LiveTimes{Received: t0 + 4, Input: t0 + 4.5, Inferred: t0 + 4.5 + network, Evidence: t0 + 5 + network, Posted: t0 + 5.5 + network}
		p.answer(k+1, w.Posted+1.5, w)
		p.drawn(k+1, w.Posted+2.5)
	}
	got := p.medians()
	want := LiveStages{Frames: 3, Capture: 2, Held: 1, Send: 1, Input: 0.5, Network: 30, Evidence: 0.5, Reply: 2, Draw: 1,
		// Frames 2 and 3 only: idle 8.5 both times, periods 40 and 70.
		WorkerIdle: (1040 + 4) - (1000 + 5.5 + 30), Period: (40 + 70) / 2.0}
	if got != want {
		t.Errorf("medians\n got %+v\nwant %+v", got, want)
	}

	// An answer drawn after a newer one came, or without the worker's
	// times, adds nothing.
	p.sent(2000, 2001, 2002)
	p.answer(4, 2050, nil)
	p.drawn(4, 2051)
	p.sent(2100, 2101, 2102)
	p.answer(5, 2150, &protocol.LiveTimes{})
	p.drawn(4, 2151)
	if n := p.medians().Frames; n != 3 {
		t.Errorf("%d frames profiled, want 3", n)
	}
	for k := 0; k < 2*liveProfileFrames; k++ {
		p.sent(0, 0, 0)
		p.answer(10+k, 0, &protocol.LiveTimes{})
		p.drawn(10+k, 0)
	}
	if n := p.medians().Frames; n != liveProfileFrames {
		t.Errorf("%d frames profiled, want the last %d", n, liveProfileFrames)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		v    []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tc.v); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.v, got, tc.want)
		}
	}
}
