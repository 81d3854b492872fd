package engine

import (
	"fmt"

	"github.com/bagnetweb/bagnet/model"
)

// GoHelper is a Helper that computes its bands on a goroutine of this
// process: what the browser's band workers do, natively, on another core.
//
// Net may be the engine's own network. model.QNet's passes (Features,
// FeatureRect) are safe for concurrent use: the weights are read-only after
// Prepare and each pass takes its own activation and accumulator buffers
// from the network's pool. What is not safe is changing the network during
// a pass (UseKernels, Prepare), and a Kernels implementation that keeps
// state of its own must then be safe for concurrent calls too.
type GoHelper struct {
	Net       *model.QNet
	InputSize int // the model input's side, as Engine.InputSize
}

// Start implements Helper.
func (h *GoHelper) Start(rgb []uint8, rows, cols [2]int) func() ([]uint8, error) {
	type reply struct {
		data []uint8
		err  error
	}
	ch := make(chan reply, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				ch <- reply{err: fmt.Errorf("band goroutine: internal error: %v", r)}
			}
		}()
		n := h.InputSize
		f, err := h.Net.FeatureRect(rgb, n, n, rows[0], rows[1], cols[0], cols[1])
		if err != nil {
			ch <- reply{err: err}
			return
		}
		ch <- reply{data: f.Data}
	}()
	return func() ([]uint8, error) {
		r := <-ch
		return r.data, r.err
	}
}

// UseGoroutines makes the int8 passes of e run in bands on up to workers
// goroutines (this one and workers-1 GoHelpers sharing e's network), as the
// browser does on its band workers; the results stay bit-identical. It
// replaces e.Helpers; workers <= 1 removes them. A float model has no
// bands: it is left alone.
func (e *Engine) UseGoroutines(workers int) {
	e.helperMu.Lock()
	defer e.helperMu.Unlock()
	e.Helpers = nil
	if e.Int8 == nil {
		return
	}
	for range workers - 1 {
		e.Helpers = append(e.Helpers, &GoHelper{Net: e.Int8, InputSize: e.InputSize})
	}
}
