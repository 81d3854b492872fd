package testfixture

import (
	"runtime"
	"time"
)

// Measure runs f and returns its time and the bytes it allocated (the
// TotalAlloc delta, an upper bound on the heap it grew by).
func Measure(f func()) (time.Duration, uint64) {
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	t0 := time.Now()
	f()
	d := time.Since(t0)
	runtime.ReadMemStats(&m1)
	return d, m1.TotalAlloc - m0.TotalAlloc
}
