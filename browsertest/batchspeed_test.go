package browsertest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bagnetweb/bagnet/internal/testmodel"
	"github.com/bagnetweb/bagnet/model/kernel/tensorkernel"
)

// TestBatchSpeed is a measurement, not a check (it runs only with
// BATCH_SPEED=1): the page's batch throughput, images per second from the
// first image sent to the last answer, with 1 and 2 workers, alternating,
// in rounds, for the shipped model on 33 Imagenette val images and (with
// BATCH_SPEED=full) a full-size BagNet-33 (random weights, 1000 classes)
// on 12. It logs each run and the median ratio of 2 workers to 1.
func TestBatchSpeed(t *testing.T) {
	mode := os.Getenv("BATCH_SPEED")
	if mode == "" {
		t.Skip("a measurement: set BATCH_SPEED=1 (or full) to run it")
	}
	tb := newTab(t)
	type setup struct {
		name     string
		perClass int
		model    string // a model file to load, "" for the site's
	}
	setups := []setup{{"shipped", 10, ""}}
	if mode == "full" {
		b, err := testmodel.Int8(testmodel.Options{Arch: "bagnet33", Width: 1, InputSize: 224, Resize: "crop",
			Classes: 1000, Calib: 1, Seed: 21, Kernels: tensorkernel.Kernels{}})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "full.safetensors")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		setups = append(setups, setup{"full-size BagNet-33", 3, p})
	}
	for _, s := range setups {
		parent, name := batchFolder(t, []string{"n01440764", "n02102040", "n02979186"}, s.perClass)
		rates := map[int][]float64{}
		for round := 0; round < 3; round++ {
			for _, workers := range []int{1, 2} {
				tb.openQuery(suite.srv.URL, "?workers="+string(rune('0'+workers)))
				if s.model != "" {
					// Not loadModel: loading a full-size model may take minutes
					// on a loaded machine.
					if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](armJS),
						chromedp.SetUploadFiles(chromedp.CSS("#model-file"), []string{s.model})); err != nil {
						t.Fatal(err)
					}
					if st, ok := tb.tryWaitFor(reloadedJS, 5*time.Minute); !ok || st != "ready" {
						t.Fatalf("load %s: %q", s.name, st)
					}
				}
				t0 := time.Now()
				if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](`window.bagnetBatch = null`),
					chromedp.SetUploadFiles(chromedp.CSS("#folder"), []string{filepath.Join(parent, name)})); err != nil {
					t.Fatal(err)
				}
				tb.waitFor(`window.bagnetBatch && !window.bagnetBatch.running ? "yes" : ""`)
				st := windowValue[batchState](tb, "bagnetBatch")
				rates[workers] = append(rates[workers], st.Rate)
				t.Logf("%s, %d workers, round %d: %d images, %.2f images/s (%.1f s in all); the worker's time per image %.0f ms of %.0f ms",
					s.name, workers, round+1, st.Done, st.Rate, time.Since(t0).Seconds(), st.WorkMs/float64(st.Done), st.ElapsedMs/float64(st.Done))
			}
		}
		var ratios []float64
		for i := range rates[1] {
			ratios = append(ratios, rates[2][i]/rates[1][i])
		}
		t.Logf("%s: images/s 1 worker %.2f, 2 workers %.2f (medians); 2 workers / 1: %.2f (median of %d rounds)",
			s.name, median(rates[1]), median(rates[2]), median(ratios), len(ratios))
	}
}
