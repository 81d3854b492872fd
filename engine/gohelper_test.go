package engine_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/internal/testmodel"
)

// sameAnalysis fails unless got has want's logits and every class's
// evidence, bit for bit.
func sameAnalysis(t *testing.T, what string, got, want *engine.Analysis) {
	t.Helper()
	if !slices.Equal(got.Logits, want.Logits) {
		t.Fatalf("%s: logits %v, alone %v", what, got.Logits, want.Logits)
	}
	for c := range got.Logits {
		ev, _ := got.Evidence(c)
		wev, _ := want.Evidence(c)
		if !slices.Equal(ev, wev) {
			t.Fatalf("%s: evidence of class %d differs", what, c)
		}
	}
}

// Bands on goroutines give the single-threaded result bit for bit, for
// every architecture and worker count, and keep doing so over a session of
// many calls, several at once on one engine.
func TestGoroutinesGiveIdenticalResults(t *testing.T) {
	eachArch(t, func(arch string, opt testmodel.Options, img []byte, want *engine.Analysis) {
		for _, workers := range []int{2, 3, 4} {
			t.Run(fmt.Sprintf("%s/%d workers", arch, workers), func(t *testing.T) {
				e := load(t, opt)
				e.UseGoroutines(workers)
				if len(e.Helpers) != workers-1 {
					t.Fatalf("%d helpers, want %d", len(e.Helpers), workers-1)
				}
				if len(e.Bands(len(e.Helpers)+1)) < 2 {
					t.Fatal("the test needs a map that splits")
				}
				var wg sync.WaitGroup
				got := make([]*engine.Analysis, 6)
				errs := make([]error, len(got))
				for i := range got {
					wg.Go(func() { got[i], errs[i] = e.Classify(img, 3) })
				}
				wg.Wait()
				for i := range got {
					if errs[i] != nil {
						t.Fatal(errs[i])
					}
					sameAnalysis(t, fmt.Sprintf("call %d", i), got[i], want)
				}
				if len(e.Helpers) != workers-1 {
					t.Errorf("%d helpers left, want %d", len(e.Helpers), workers-1)
				}
			})
		}
	})
	e := load(t, testmodel.Options{InputSize: 96})
	e.UseGoroutines(3)
	e.UseGoroutines(1)
	if len(e.Helpers) != 0 {
		t.Errorf("UseGoroutines(1) left %d helpers", len(e.Helpers))
	}
}

// gatedHelper reports when its wait starts and then blocks until gate is
// closed (or forever when it is nil), then fails.
type gatedHelper struct {
	entered chan<- int
	id      int
	gate    <-chan struct{}
}

func (h *gatedHelper) Start(rgb []uint8, rows, cols [2]int) func() ([]uint8, error) {
	return func() ([]uint8, error) {
		h.entered <- h.id
		<-h.gate
		return nil, errors.New("hung, then gave up")
	}
}

// The engine waits for all its helpers at once: every helper's wait has
// started before any of them returns (waited on one after another, the
// second would never start while the first hangs). Each failed band is
// recomputed here, with the same result, and every helper is dropped once
// the call is over, reported in band order.
func TestHelpersAreWaitedForTogether(t *testing.T) {
	img, want, e := baseline(t, testmodel.Options{Arch: "bagnet9", InputSize: 160})
	const k = 3
	entered := make(chan int, k)
	gate := make(chan struct{})
	for i := range k {
		e.Helpers = append(e.Helpers, &gatedHelper{entered: entered, id: i, gate: gate})
	}
	if n := len(e.Bands(k + 1)); n != k+1 {
		t.Fatalf("%d bands, the test needs %d", n, k+1)
	}
	var reported []int
	e.OnHelperError = func(h engine.Helper, err error) { reported = append(reported, h.(*gatedHelper).id) }
	done := make(chan struct{})
	var got *engine.Analysis
	var err error
	go func() {
		defer close(done)
		got, err = e.Classify(img, 3)
	}()
	for range k {
		select {
		case <-entered:
		case <-time.After(time.Minute):
			t.Fatal("not every helper was waited for while the first hung")
		}
	}
	close(gate)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	sameAnalysis(t, "after every helper failed", got, want)
	if len(e.Helpers) != 0 || fmt.Sprint(reported) != "[0 1 2]" {
		t.Errorf("%d helpers left, failures reported for %v; want none left, [0 1 2]", len(e.Helpers), reported)
	}
}

// One deadline covers the whole call: k helpers that never answer cost
// HelperTimeout once, not k times, and their bands are recomputed here.
func TestHelperTimeoutIsOneDeadline(t *testing.T) {
	img, want, e := baseline(t, testmodel.Options{Arch: "bagnet9", InputSize: 160})
	const k = 3
	const timeout = 2 * time.Second
	entered := make(chan int, k)
	never := make(chan struct{})
	defer close(never) // lets the abandoned waits end
	good := &engine.GoHelper{Net: e.Int8, InputSize: e.InputSize}
	e.Helpers = []engine.Helper{good}
	for i := range k {
		e.Helpers = append(e.Helpers, &gatedHelper{entered: entered, id: i, gate: never})
	}
	e.HelperTimeout = timeout
	var msgs []string
	e.OnHelperError = func(h engine.Helper, err error) { msgs = append(msgs, err.Error()) }
	t0 := time.Now()
	got, err := e.Classify(img, 3)
	took := time.Since(t0)
	if err != nil {
		t.Fatal(err)
	}
	sameAnalysis(t, "with hung helpers", got, want)
	// k deadlines in a row would take k*timeout; allow one plus the work.
	if took >= k*timeout {
		t.Errorf("%d hung helpers took %v, want one deadline (%v) plus the work", k, took, timeout)
	}
	if len(e.Helpers) != 1 || e.Helpers[0] != engine.Helper(good) {
		t.Errorf("helpers left %v, want only the working one", e.Helpers)
	}
	if len(msgs) != k || !strings.Contains(msgs[0], "no answer within 2s") {
		t.Errorf("failures reported: %q", msgs)
	}
}
