//go:build !linux

package static

import "net"

// limitUnsent does nothing here: see lowat_linux.go.
func limitUnsent(c *net.TCPConn, n int) {}
