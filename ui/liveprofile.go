package ui

import (
	"slices"

	"github.com/vugu/vugu/js"

	"github.com/bagnetweb/bagnet/protocol"
)

// LiveStages is where a live frame's time goes: the median milliseconds of
// each stage over the last frames drawn (at most liveProfileFrames), from
// the page's and the worker's clock readings (protocol.LiveTimes).
type LiveStages struct {
	Frames   int     `json:"frames"`   // frames the medians are over
	Capture  float64 `json:"capture"`  // drawImage and getImageData of the video on the page
	Held     float64 `json:"held"`     // from the pixels read to their request posted (read ahead: the wait for the worker)
	Send     float64 `json:"send"`     // from the request posted to the worker taking it
	Input    float64 `json:"input"`    // RGBA to the model input, in the worker
	Network  float64 `json:"network"`  // the network's pass (with the band workers)
	Evidence float64 `json:"evidence"` // the top class's evidence map
	Reply    float64 `json:"reply"`    // from the evidence made to the page applying the answer
	Draw     float64 `json:"draw"`     // from the answer applied to the overlay and status line drawn
	// WorkerIdle is how long the worker waited between posting one answer
	// and taking the next frame; Period, the time between two answers.
	WorkerIdle float64 `json:"workerIdle"`
	Period     float64 `json:"period"`
}

// liveProfileFrames is how many frames LiveStages' medians are over.
const liveProfileFrames = 120

// liveFrame is the page's clock readings (epochMs) for one live frame.
type liveFrame struct {
	capture0, capture1 float64 // before drawImage, after getImageData
	posted             float64 // the request was posted
	answered           float64 // the answer reached live mode
	times              *protocol.LiveTimes
	frame              int // the answer's number (LiveState.Frames)
}

// liveProfile keeps the stages of the last frames.
type liveProfile struct {
	cur     liveFrame // the frame in flight
	drawing liveFrame // the frame answered, until it is drawn
	prev    liveFrame // the frame answered before it
	stages  [][10]float64
}

// sent records that the frame read between t0 and t1 was posted at posted.
func (p *liveProfile) sent(t0, t1, posted float64) {
	p.cur = liveFrame{capture0: t0, capture1: t1, posted: posted}
}

// answer records the answer to the frame in flight, answer number frame,
// applied at t with the worker's times.
func (p *liveProfile) answer(frame int, t float64, times *protocol.LiveTimes) {
	p.prev, p.drawing = p.drawing, p.cur
	p.drawing.answered, p.drawing.times, p.drawing.frame = t, times, frame
	p.cur = liveFrame{}
}

// drawn records that answer number frame was drawn at t.
func (p *liveProfile) drawn(frame int, t float64) {
	f := p.drawing
	if f.frame != frame || f.times == nil {
		return
	}
	w := f.times
	st := [10]float64{f.capture1 - f.capture0, f.posted - f.capture1, w.Received - f.posted, w.Input - w.Received,
		w.Inferred - w.Input, w.Evidence - w.Inferred, f.answered - w.Evidence, t - f.answered, -1, -1}
	if q := p.prev; q.times != nil && q.frame == frame-1 {
		st[8], st[9] = w.Received-q.times.Posted, f.answered-q.answered
	}
	if len(p.stages) == liveProfileFrames {
		p.stages = p.stages[1:]
	}
	p.stages = append(p.stages, st)
}

// medians is the profile as LiveStages.
func (p *liveProfile) medians() LiveStages {
	var m [10]float64
	for k := range m {
		var v []float64
		for _, st := range p.stages {
			if k < 8 || st[k] >= 0 {
				v = append(v, st[k])
			}
		}
		m[k] = median(v)
	}
	return LiveStages{Frames: len(p.stages), Capture: m[0], Held: m[1], Send: m[2], Input: m[3], Network: m[4],
		Evidence: m[5], Reply: m[6], Draw: m[7], WorkerIdle: m[8], Period: m[9]}
}

// median of v (0 when empty); v is reordered.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// epochMs is performance.timeOrigin + performance.now(): milliseconds on a
// clock the page and its workers share (protocol.LiveTimes).
func epochMs() float64 {
	p := js.Global().Get("performance")
	return p.Get("timeOrigin").Float() + p.Call("now").Float()
}
