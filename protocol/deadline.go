package protocol

import (
	"math"
	"time"
)

// Deadlines: how long the page waits for the inference worker, and the
// inference worker for its band workers, before it calls a worker hung,
// scaled to the model. A pass is the time of one forward pass of the whole
// model input: the worker's measured warm-up pass (Info.WarmupMs, the
// first pass, before the engine has tiered up: slower than later ones)
// when there is one, else the model's multiply-accumulates at
// SlowMACsPerSecond. In Chromium on this project's 2-core machine the
// full-size BagNet-33 at 224 px (1000 classes) warms up in about 1 s and
// classifies in 0.5-1 s; the shipped width-1/4 model at 128 px in tens of
// milliseconds.
//
// A request gets RequestFloor + RequestPasses passes: the floor covers the
// work that does not scale with the model (decoding a 50-megapixel image,
// posting its bytes), the passes a busy or throttled device (on this
// machine, loaded by parallel builds, the shipped model's 50 ms classify
// took up to 9 s from upload to result: a false alarm restarts a healthy
// worker, so the margins are wide); a band worker
// that hangs costs its own, shorter, deadline (HelperDeadline) and then a
// band recomputed, so the page's deadline still holds. Loading a model
// gets LoadFloor + LoadPasses passes at SlowMACsPerSecond once its size is
// known, and LoadQuiet of silence while it downloads.
const (
	RequestFloor  = 15 * time.Second
	RequestPasses = 20
	HelperFloor   = 5 * time.Second
	HelperPasses  = 6
	LoadFloor     = 15 * time.Second
	LoadPasses    = 3
	LoadQuiet     = 30 * time.Second

	// SlowMACsPerSecond is the slowest throughput the deadlines expect
	// before a pass was measured: a quarter of the pure-Go kernels'
	// speed in Chromium here, a twentieth of WebAssembly SIMD's.
	SlowMACsPerSecond = 1e9
)

// Pass is the time of one forward pass: the measured warmupMs when
// positive, else macs at SlowMACsPerSecond.
func Pass(macs int64, warmupMs float64) time.Duration {
	if warmupMs > 0 && !math.IsInf(warmupMs, 0) {
		return time.Duration(warmupMs * float64(time.Millisecond))
	}
	return time.Duration(float64(max(macs, 0)) / SlowMACsPerSecond * float64(time.Second))
}

// RequestDeadline is how long the page waits for the answer to one request
// (classify, scramble, occlude, evidence) to the model described by info.
func RequestDeadline(info *Info) time.Duration {
	if info == nil {
		return RequestFloor + LoadFloor
	}
	return RequestFloor + RequestPasses*Pass(info.MACs, info.WarmupMs)
}

// HelperDeadline is how long the inference worker waits for its band
// workers' blocks of one request, all of them together: one deadline per
// request, fixed when the request starts, shared by every helper, so that
// k hung band workers cost one deadline, not k.
func HelperDeadline(macs int64, warmupMs float64) time.Duration {
	return HelperFloor + HelperPasses*Pass(macs, warmupMs)
}

// LoadDeadline is how long loading a model of macs multiply-accumulates
// may take once it is downloaded: parsing it, handing it to the band
// workers and the warm-up pass.
func LoadDeadline(macs int64) time.Duration {
	return LoadFloor + LoadPasses*Pass(macs, 0)
}
