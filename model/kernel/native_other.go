//go:build !amd64 || purego

package kernel

// Native is the CPU-specific kernel: none on this platform.
func Native() Kernels { return nil }
