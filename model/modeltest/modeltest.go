// Package modeltest holds what tests of the int8 engine on different
// kernels and platforms share: one digest of its exact results.
package modeltest

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"

	"github.com/bagnetweb/bagnet/model"
	"github.com/bagnetweb/bagnet/model/kernel"
)

// Digest runs the int8 engine on k for random width-1/8 BagNet-9/17/33
// models and hashes the exact bits of their logits and evidence maps. The
// same digest natively, in js/wasm and on every kernel proves bit-identical
// results.
func Digest(k kernel.Kernels) (string, error) {
	h := sha256.New()
	for i, arch := range []string{"bagnet9", "bagnet17", "bagnet33"} {
		cfg := model.Config{Arch: arch, Width: 0.125, Classes: 10}
		const size = 56
		q, err := model.RandomQNet(cfg, uint64(10+i), size, 2)
		if err != nil {
			return "", err
		}
		q.UseKernels(k)
		f, err := q.Features(model.RandomRGB(size, size, 42), size, size)
		if err != nil {
			return "", err
		}
		put := func(v []float32) {
			for _, x := range v {
				binary.Write(h, binary.LittleEndian, math.Float32bits(x))
			}
		}
		put(q.Logits(f))
		for c := 0; c < cfg.Classes; c++ {
			put(q.Evidence(f, c))
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
