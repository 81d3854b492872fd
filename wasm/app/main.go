//go:build js && wasm

// Command app is the page's user interface (GOOS=js GOARCH=wasm): it renders
// package ui with vugu into #app and leaves the network to the inference
// worker (wasm/worker), which web/app.js starts before this runs.
package main

import (
	"fmt"
	"syscall/js"

	"github.com/vugu/vugu"
	"github.com/vugu/vugu/domrender"

	"github.com/bagnetweb/bagnet/ui"
)

func main() {
	renderer, err := newRenderer()
	if err != nil {
		fail(err)
		return
	}
	defer renderer.Release()
	env, err := vugu.NewBuildEnv(renderer.EventEnv())
	if err != nil {
		fail(err)
		return
	}
	root := &ui.Root{}
	for ok := true; ok; ok = renderer.EventWait() {
		if err := renderer.Render(env.RunBuild(root)); err != nil {
			fail(err)
			return
		}
		root.AfterRender()
	}
}

// fail reports a broken start-up on the page itself.
func fail(err error) {
	fmt.Println("app:", err)
	ui.ShowFatal("The page could not start: " + err.Error())
}

// newRenderer makes vugu's DOM renderer. domrender.New installs its helper
// script with window.eval, which the page's Content-Security-Policy
// forbids; the site loads that script from vugu-render.js instead (see
// cmd/mksite). So for the duration of the call only, window.eval is a
// function that evaluates nothing, and the browser's own is put back
// before anything else can run: the page never carries an eval override.
func newRenderer() (*domrender.JSRenderer, error) {
	w := js.Global()
	if !w.Get("vuguRender").Truthy() {
		return nil, fmt.Errorf("vugu's helper script (vugu-render.js) is not loaded")
	}
	orig := w.Get("eval")
	noEval := js.FuncOf(func(js.Value, []js.Value) any { return js.Undefined() })
	w.Set("eval", noEval)
	defer noEval.Release()
	defer w.Set("eval", orig)
	return domrender.New("#app")
}
