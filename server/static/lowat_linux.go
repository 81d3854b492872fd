package static

import (
	"net"
	"syscall"
)

// tcpNotSentLowat is TCP_NOTSENT_LOWAT (linux/tcp.h), which package
// syscall does not name.
const tcpNotSentLowat = 0x19

// limitUnsent makes a write to c wait until at most n bytes are queued
// unsent, so that a write deadline measures the client's progress: without
// it, a loopback socket buffers megabytes and wakes a blocked writer only
// once a third of its buffer has drained. Errors are ignored: the deadline
// still frees a client that stops reading, only less promptly.
func limitUnsent(c *net.TCPConn, n int) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpNotSentLowat, n)
	})
}
