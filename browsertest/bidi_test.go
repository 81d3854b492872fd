package browsertest

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// This file drives Firefox over WebDriver BiDi (JSON commands and events
// over one WebSocket, https://w3c.github.io/webdriver-bidi/): Firefox
// started with --remote-debugging-port serves it itself, so no geckodriver
// is needed.

// bidiConn is one WebDriver BiDi connection: commands with their replies,
// and the events of the subscribed modules.
type bidiConn struct {
	ws      *websocket.Conn
	onEvent func(method string, params json.RawMessage) // called on the read loop: must be fast

	mu      sync.Mutex
	next    int
	pending map[int]chan bidiMessage
	err     error         // why the read loop ended
	done    chan struct{} // closed when the read loop ends
}

// bidiMessage is a command's reply or an event.
type bidiMessage struct {
	Type       string          `json:"type"` // "success", "error" or "event"
	ID         *int            `json:"id"`
	Result     json.RawMessage `json:"result"`
	Error      string          `json:"error"`
	Message    string          `json:"message"`
	Method     string          `json:"method"`
	Params     json.RawMessage `json:"params"`
	Stacktrace string          `json:"stacktrace"`
}

// dialBiDi connects to a BiDi WebSocket URL (ws://host:port/session).
func dialBiDi(ctx context.Context, url string, onEvent func(string, json.RawMessage)) (*bidiConn, error) {
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", url, err)
	}
	ws.SetReadLimit(256 << 20) // a page's result with a 1000-class map is megabytes
	c := &bidiConn{ws: ws, onEvent: onEvent, pending: make(map[int]chan bidiMessage), done: make(chan struct{})}
	go c.readLoop()
	return c, nil
}

func (c *bidiConn) readLoop() {
	defer close(c.done)
	for {
		_, raw, err := c.ws.Read(context.Background())
		if err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
			return
		}
		var m bidiMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			c.mu.Lock()
			c.err = fmt.Errorf("a BiDi message that is not JSON: %w: %.200s", err, raw)
			c.mu.Unlock()
			return
		}
		if m.Type == "event" {
			if c.onEvent != nil {
				c.onEvent(m.Method, m.Params)
			}
			continue
		}
		if m.ID == nil {
			continue // an error about no command in particular: the caller's command times out
		}
		c.mu.Lock()
		ch := c.pending[*m.ID]
		delete(c.pending, *m.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	}
}

// call sends a command and waits for its result.
func (c *bidiConn) call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	if params == nil {
		params = struct{}{}
	}
	c.mu.Lock()
	c.next++
	id := c.next
	ch := make(chan bidiMessage, 1)
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()
	msg, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	if err := c.ws.Write(ctx, websocket.MessageText, msg); err != nil {
		return nil, fmt.Errorf("%s: send: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Type == "error" {
			return nil, fmt.Errorf("%s: %s: %s", method, m.Error, m.Message)
		}
		return m.Result, nil
	case <-c.done:
		c.mu.Lock()
		defer c.mu.Unlock()
		return nil, fmt.Errorf("%s: connection closed: %w", method, c.err)
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

func (c *bidiConn) close() { c.ws.Close(websocket.StatusNormalClosure, "") }

// firefoxPrefs go into the test profile's user.js: no first-run pages, no
// updates, no telemetry, no default-browser prompt. (Firefox's remote agent
// sets its own recommended automation preferences on top.)
const firefoxPrefs = `user_pref("app.update.disabledForTesting", true);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("browser.aboutwelcome.enabled", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("datareporting.healthreport.uploadEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("extensions.update.enabled", false);
user_pref("browser.safebrowsing.update.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
`

// firefox is a headless Firefox with one page, driven over BiDi.
type firefox struct {
	cmd     *exec.Cmd
	conn    *bidiConn
	context string // the top-level browsing context (the tab)
	stderr  *tailBuffer
	version string

	mu       sync.Mutex
	requests []string // URLs the page and its workers requested, in order
	failed   []string // "404 URL" for responses with an error status
	logs     []string // console messages and JavaScript errors
}

// startFirefox starts bin (firefox-esr) headless with a fresh profile in
// dir and connects to its BiDi endpoint.
func startFirefox(ctx context.Context, bin, dir string) (_ *firefox, err error) {
	profile := filepath.Join(dir, "profile")
	if err := os.MkdirAll(profile, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(firefoxPrefs), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--headless", "--no-remote", "--profile", profile,
		"--remote-debugging-port=0", "about:blank")
	cmd.Env = append(os.Environ(), "MOZ_CRASHREPORTER_DISABLE=1", "HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its content processes go with it
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	ff := &firefox{cmd: cmd, stderr: &tailBuffer{max: 16 << 10}}
	defer func() {
		if err != nil {
			ff.close()
		}
	}()
	// Firefox prints "WebDriver BiDi listening on ws://127.0.0.1:PORT" on
	// stderr; everything else there is kept for error messages.
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			ff.stderr.WriteString(line + "\n")
			if _, url, ok := strings.Cut(line, "WebDriver BiDi listening on "); ok {
				select {
				case found <- strings.TrimSpace(url):
				default:
				}
			}
		}
		close(found)
	}()
	var url string
	select {
	case u, ok := <-found:
		if !ok {
			return nil, fmt.Errorf("%s exited before it served WebDriver BiDi: %v\n%s", bin, cmd.Wait(), ff.stderr)
		}
		url = u
	case <-ctx.Done():
		return nil, fmt.Errorf("%s did not serve WebDriver BiDi: %w\n%s", bin, ctx.Err(), ff.stderr)
	}
	if ff.conn, err = dialBiDi(ctx, url+"/session", ff.event); err != nil {
		return nil, err
	}
	res, err := ff.conn.call(ctx, "session.new", map[string]any{"capabilities": map[string]any{}})
	if err != nil {
		return nil, err
	}
	var sess struct {
		Capabilities struct {
			BrowserName    string `json:"browserName"`
			BrowserVersion string `json:"browserVersion"`
		} `json:"capabilities"`
	}
	if err := json.Unmarshal(res, &sess); err != nil {
		return nil, fmt.Errorf("session.new: %w", err)
	}
	ff.version = sess.Capabilities.BrowserName + " " + sess.Capabilities.BrowserVersion
	if _, err := ff.conn.call(ctx, "session.subscribe", map[string]any{"events": []string{
		"network.beforeRequestSent", "network.responseCompleted", "log.entryAdded",
	}}); err != nil {
		return nil, err
	}
	// Record Content Security Policy violations from the start of every
	// document (blocked loads never reach the network events).
	if _, err := ff.conn.call(ctx, "script.addPreloadScript", map[string]any{
		"functionDeclaration": cspRecorderJS,
	}); err != nil {
		return nil, err
	}
	res, err = ff.conn.call(ctx, "browsingContext.getTree", map[string]any{"maxDepth": 0})
	if err != nil {
		return nil, err
	}
	var tree struct {
		Contexts []struct {
			Context string `json:"context"`
		} `json:"contexts"`
	}
	if err := json.Unmarshal(res, &tree); err != nil || len(tree.Contexts) == 0 {
		return nil, fmt.Errorf("browsingContext.getTree: no tab in %s (%v)", res, err)
	}
	ff.context = tree.Contexts[0].Context
	return ff, nil
}

// cspRecorderJS records the page's Content Security Policy violations in
// window.__cspViolations.
const cspRecorderJS = `() => {
	window.__cspViolations = [];
	document.addEventListener("securitypolicyviolation",
		e => window.__cspViolations.push(e.violatedDirective + " blocked " + e.blockedURI));
}`

// event records the network requests and log entries of every context.
func (ff *firefox) event(method string, params json.RawMessage) {
	var p struct {
		Request struct {
			URL string `json:"url"`
		} `json:"request"`
		Response struct {
			URL    string `json:"url"`
			Status int    `json:"status"`
		} `json:"response"`
		Level string `json:"level"`
		Text  string `json:"text"`
	}
	if json.Unmarshal(params, &p) != nil {
		return
	}
	ff.mu.Lock()
	defer ff.mu.Unlock()
	switch method {
	case "network.beforeRequestSent":
		ff.requests = append(ff.requests, p.Request.URL)
	case "network.responseCompleted":
		if p.Response.Status >= 400 {
			ff.failed = append(ff.failed, fmt.Sprintf("%d %s", p.Response.Status, p.Response.URL))
		}
	case "log.entryAdded":
		ff.logs = append(ff.logs, p.Level+": "+p.Text)
	}
}

func (ff *firefox) navigate(ctx context.Context, url string) error {
	_, err := ff.conn.call(ctx, "browsingContext.navigate", map[string]any{
		"context": ff.context, "url": url, "wait": "complete",
	})
	return err
}

// evaluate runs a script.evaluate of expr and returns its remote value.
func (ff *firefox) evaluate(ctx context.Context, expr string) (json.RawMessage, error) {
	res, err := ff.conn.call(ctx, "script.evaluate", map[string]any{
		"expression":      expr,
		"target":          map[string]any{"context": ff.context},
		"awaitPromise":    false,
		"resultOwnership": "none",
	})
	if err != nil {
		return nil, err
	}
	var r struct {
		Type             string          `json:"type"`
		Result           json.RawMessage `json:"result"`
		ExceptionDetails struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return nil, fmt.Errorf("script.evaluate: %w", err)
	}
	if r.Type != "success" {
		return nil, fmt.Errorf("script.evaluate %.80q: %s", expr, r.ExceptionDetails.Text)
	}
	return r.Result, nil
}

func (ff *firefox) eval(ctx context.Context, expr string) (json.RawMessage, error) {
	res, err := ff.evaluate(ctx, jsonJS(expr))
	if err != nil {
		return nil, err
	}
	var v struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	}
	if err := json.Unmarshal(res, &v); err != nil || v.Type != "string" {
		return nil, fmt.Errorf("evaluate %.80q: got %.200s, want a string (%v)", expr, res, err)
	}
	return json.RawMessage(v.Value), nil
}

func (ff *firefox) setFile(ctx context.Context, sel, path string) error {
	res, err := ff.evaluate(ctx, fmt.Sprintf("document.querySelector(%q)", sel))
	if err != nil {
		return err
	}
	var node struct {
		Type     string `json:"type"`
		SharedID string `json:"sharedId"`
	}
	if err := json.Unmarshal(res, &node); err != nil || node.Type != "node" || node.SharedID == "" {
		return fmt.Errorf("no element %s: %.200s", sel, res)
	}
	_, err = ff.conn.call(ctx, "input.setFiles", map[string]any{
		"context": ff.context,
		"element": map[string]any{"sharedId": node.SharedID},
		"files":   []string{path},
	})
	return err
}

func (ff *firefox) screenshot(ctx context.Context) ([]byte, error) {
	res, err := ff.conn.call(ctx, "browsingContext.captureScreenshot", map[string]any{
		"context": ff.context, "origin": "document",
	})
	if err != nil {
		return nil, err
	}
	var r struct {
		Data string `json:"data"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(r.Data)
}

// seen returns what the network and log events recorded so far.
func (ff *firefox) seen() (requests, failed, logs []string) {
	ff.mu.Lock()
	defer ff.mu.Unlock()
	return append([]string(nil), ff.requests...), append([]string(nil), ff.failed...), append([]string(nil), ff.logs...)
}

// close ends the session (Firefox quits), or kills Firefox's process group
// when it does not quit within 20 seconds.
func (ff *firefox) close() {
	if ff.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ff.conn.call(ctx, "browser.close", nil)
		cancel()
		ff.conn.close()
	}
	waitOrKill(ff.cmd, 20*time.Second)
}

// waitOrKill waits for cmd (started with its own process group) to exit,
// and kills the group when it has not after d.
func waitOrKill(cmd *exec.Cmd, d time.Duration) {
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(d):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) WriteString(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, s...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = b.buf[over:]
	}
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// jsonJS wraps a JavaScript expression so that it gives its value as a JSON
// string ("null" for undefined).
func jsonJS(expr string) string {
	return "(() => { const v = (" + expr + "); return JSON.stringify(v === undefined ? null : v); })()"
}
