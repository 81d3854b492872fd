//go:build js && wasm

// Command app is the page's user interface (GOOS=js GOARCH=wasm): it renders
// package ui with vugu into #app and leaves the network to the inference
// worker (wasm/worker), which web/app.js starts before this runs.
package main

import (
	"fmt"

	"github.com/vugu/vugu"
	"github.com/vugu/vugu/domrender"

	"github.com/bagnetweb/bagnet/ui"
)

func main() {
	renderer, err := domrender.New("#app")
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
