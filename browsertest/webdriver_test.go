package browsertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// This file drives WebKitGTK's MiniBrowser through WebKitWebDriver, which
// speaks classic W3C WebDriver (https://w3c.github.io/webdriver/: HTTP and
// JSON), on a display of its own (Xvfb).

// wdSession is one classic WebDriver session.
type wdSession struct {
	base string // http://127.0.0.1:PORT
	id   string
}

// wdElement is the key of a web element reference in WebDriver's JSON.
const wdElement = "element-6066-11e4-a52e-4f735466cecf"

// do sends a command and returns its "value".
func (s *wdSession) do(ctx context.Context, method, path string, body any) (json.RawMessage, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	url := s.base + path
	if s.id != "" {
		url = s.base + "/session/" + s.id + path
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	var r struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("%s %s: %s: %w: %.200s", method, path, resp.Status, err, raw)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		json.Unmarshal(r.Value, &e)
		return nil, fmt.Errorf("%s %s: %s: %s: %s", method, path, resp.Status, e.Error, e.Message)
	}
	return r.Value, nil
}

func (s *wdSession) navigate(ctx context.Context, url string) error {
	_, err := s.do(ctx, "POST", "/url", map[string]any{"url": url})
	return err
}

func (s *wdSession) eval(ctx context.Context, expr string) (json.RawMessage, error) {
	res, err := s.do(ctx, "POST", "/execute/sync", map[string]any{
		"script": "return " + jsonJS(expr) + ";",
		"args":   []any{},
	})
	if err != nil {
		return nil, err
	}
	var v string
	if err := json.Unmarshal(res, &v); err != nil {
		return nil, fmt.Errorf("evaluate %.80q: got %.200s, want a string (%v)", expr, res, err)
	}
	return json.RawMessage(v), nil
}

// setFile sends the path as keys to the file input, which is how classic
// WebDriver uploads a file.
func (s *wdSession) setFile(ctx context.Context, sel, path string) error {
	res, err := s.do(ctx, "POST", "/element", map[string]any{"using": "css selector", "value": sel})
	if err != nil {
		return err
	}
	var el map[string]string
	if err := json.Unmarshal(res, &el); err != nil || el[wdElement] == "" {
		return fmt.Errorf("find %s: %.200s (%v)", sel, res, err)
	}
	_, err = s.do(ctx, "POST", "/element/"+el[wdElement]+"/value", map[string]any{"text": path})
	return err
}

func (s *wdSession) screenshot(ctx context.Context) ([]byte, error) {
	res, err := s.do(ctx, "GET", "/screenshot", nil)
	if err != nil {
		return nil, err
	}
	var b64 string
	if err := json.Unmarshal(res, &b64); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(b64)
}

// webkit is MiniBrowser under WebKitWebDriver on an Xvfb display.
type webkit struct {
	xvfb, driver *exec.Cmd
	log          *tailBuffer // the driver's and Xvfb's output
	*wdSession
	version string
}

// startWebKit starts Xvfb (when xvfb is not ""; else the DISPLAY of the
// environment is used), WebKitWebDriver (driver) on a free port, and a
// session in a new MiniBrowser.
func startWebKit(ctx context.Context, driver, xvfb string) (_ *webkit, err error) {
	wk := &webkit{log: &tailBuffer{max: 16 << 10}}
	defer func() {
		if err != nil {
			wk.close()
		}
	}()
	display := os.Getenv("DISPLAY")
	if xvfb != "" {
		if display, err = wk.startXvfb(ctx, xvfb); err != nil {
			return nil, err
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	wk.driver = exec.Command(driver, "--port="+strconv.Itoa(port))
	wk.driver.Env = append(os.Environ(), "DISPLAY="+display)
	wk.driver.Stdout, wk.driver.Stderr = wk.log, wk.log
	wk.driver.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // MiniBrowser and WebKit's processes go with it
	if err := wk.driver.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", driver, err)
	}
	wk.wdSession = &wdSession{base: "http://127.0.0.1:" + strconv.Itoa(port)}
	for {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		res, err := wk.do(sctx, "GET", "/status", nil)
		cancel()
		var st struct {
			Ready bool `json:"ready"`
		}
		if err == nil && json.Unmarshal(res, &st) == nil && st.Ready {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s did not get ready: %v (%w)\n%s", driver, err, ctx.Err(), wk.log)
		case <-time.After(100 * time.Millisecond):
		}
	}
	res, err := wk.do(ctx, "POST", "/session", map[string]any{"capabilities": map[string]any{
		"alwaysMatch": map[string]any{
			"webkitgtk:browserOptions": map[string]any{"args": []string{"--automation"}},
		},
	}})
	if err != nil {
		return nil, fmt.Errorf("new session: %w\n%s", err, wk.log)
	}
	var sess struct {
		SessionID    string `json:"sessionId"`
		Capabilities struct {
			BrowserName    string `json:"browserName"`
			BrowserVersion string `json:"browserVersion"`
		} `json:"capabilities"`
	}
	if err := json.Unmarshal(res, &sess); err != nil || sess.SessionID == "" {
		return nil, fmt.Errorf("new session: %.200s (%v)", res, err)
	}
	wk.id = sess.SessionID
	wk.version = "WebKitGTK " + sess.Capabilities.BrowserName + " " + sess.Capabilities.BrowserVersion
	// Scripts are short (the waits poll); a page load may take long on a
	// loaded machine.
	if _, err := wk.do(ctx, "POST", "/timeouts", map[string]any{"script": 60_000, "pageLoad": 300_000}); err != nil {
		return nil, err
	}
	return wk, nil
}

// startXvfb starts an X server on a free display and returns its name
// (":N").
func (wk *webkit) startXvfb(ctx context.Context, xvfb string) (string, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return "", err
	}
	defer r.Close()
	// -displayfd: Xvfb picks a free display and writes its number to fd 3.
	wk.xvfb = exec.Command(xvfb, "-displayfd", "3", "-screen", "0", "1280x900x24", "-nolisten", "tcp")
	wk.xvfb.ExtraFiles = []*os.File{w}
	wk.xvfb.Stdout, wk.xvfb.Stderr = wk.log, wk.log
	wk.xvfb.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = wk.xvfb.Start()
	w.Close()
	if err != nil {
		wk.xvfb = nil
		return "", fmt.Errorf("start %s: %w", xvfb, err)
	}
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	select {
	case n := <-got:
		if _, err := strconv.Atoi(n); err != nil {
			return "", fmt.Errorf("%s gave no display number (%q)\n%s", xvfb, n, wk.log)
		}
		return ":" + n, nil
	case <-ctx.Done():
		return "", fmt.Errorf("%s gave no display: %w\n%s", xvfb, ctx.Err(), wk.log)
	}
}

// Write makes webkit's log an io.Writer for the processes' output.
func (b *tailBuffer) Write(p []byte) (int, error) { b.WriteString(string(p)); return len(p), nil }

// close ends the session (MiniBrowser quits), then the driver and Xvfb.
func (wk *webkit) close() {
	if wk.wdSession != nil && wk.id != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		wk.do(ctx, "DELETE", "", nil)
		cancel()
		wk.id = ""
	}
	for _, cmd := range []*exec.Cmd{wk.driver, wk.xvfb} {
		if cmd != nil && cmd.Process != nil {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) // its process group
			waitOrKill(cmd, 10*time.Second)
		}
	}
}

// freePort returns a TCP port that was free on 127.0.0.1 a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
