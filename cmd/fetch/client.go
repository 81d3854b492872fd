package main

import (
	"net"
	"net/http"
	"time"
)

// httpClient gives up on a server that does not answer (30 s to connect,
// 60 s for the response to start) instead of hanging; a transfer that
// breaks later is resumed by the retries.
var httpClient = http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
	TLSHandshakeTimeout:   30 * time.Second,
	ResponseHeaderTimeout: 60 * time.Second,
}}
