// Package protocol defines the values that travel between the inference
// worker (wasm/worker) and the page (ui), and the JSON that `bagnet
// classify -json` prints: one definition that both ends import, so they
// cannot drift apart. It depends on the standard library and package
// scramble only, so the page links no engine code.
//
// # Messages
//
// The page talks to the inference worker (web/worker.js + worker.wasm)
// with postMessage. A message is a plain object: its JSON part is one of
// the message types of this package (LoadRequest, ResultReply, …), whose
// Header says its Kind and the id of the request it is or answers; big
// arrays travel beside it as transferred typed arrays under the Field*
// names (BinaryFields). Every request that carries an id is answered by a
// message with the same id: its answer or an ErrorReply.
//
// Page to worker: LoadRequest (a model of the site), ModelRequest (the
// user's model file), ClassifyRequest, ScrambleRequest, OccludeRequest,
// EvidenceRequest, BenchRequest (make bench-browser), and the test hooks
// HangRequest and KindCrash, obeyed only with Options.TestHooks (the page's
// ?testhooks=1): busy-loop for ever (or for Ms), make Go exit with a panic.
//
// Worker to page: Progress (downloads), Loading (a model file was parsed;
// its band workers' load and warm-up pass follow), Ready (with Info),
// ResultReply (Meta: the CLI's Result, the biases, the Transform, Timings,
// and a Scramble or Occlusion for those requests; the evidence maps and the
// model input beside it), EvidenceReply, EngineChange (a band worker
// failed and was dropped), BenchReply and ErrorReply.
//
// The worker's Options travel as JSON in its name (new Worker('worker.js',
// {name})). With Options.Workers > 1 the inference worker starts
// Workers - 1 band workers (the same worker.js, Role RoleBand) and talks to
// them with a KindLoadBytes message (the model file's bytes, a copy: load
// it; answered by a Ready without Info), RowsRequest (a block of the
// int8 feature map, answered by RowsReply or an ErrorReply), and, for the
// images of a FeaturesRequest or PatchesRequest of several images that it
// computes side by side, PoolRequest (a whole image's teaching example,
// answered by PoolReply) and a PatchesRequest of one image.
//
// The JavaScript glue (web/app.js, web/worker.js) cannot import this
// package: it spells the few names it needs (KindLoad, KindProgress,
// KindError with WhatWorker and Dead, FieldType) as this package does.
//
// # Deadlines
//
// The page gives every request one deadline (RequestDeadline: 15 s plus
// 20 passes of the model, a pass being the worker's measured warm-up pass,
// Info.WarmupMs), and a model load 30 s of silence while it downloads
// (LoadQuiet), then LoadDeadline(macs) once Loading came. A request that
// misses its deadline, or a worker that dies (Dead, or an error event on
// the Worker), gets the worker terminated and a new one started with the
// model in use (the site's file, or the user's file, whose bytes the page
// keeps); the request in flight fails with "the inference worker stopped
// responding; restarted". The page sends one request at a time: a newer
// image replaces a request still waiting to be sent (it is never sent) and
// the answer to a superseded request is dropped.
//
// The inference worker waits for its band workers by one deadline per
// request (HelperDeadline: 5 s plus 6 passes), fixed when the request
// starts and shared by all of them, so k hung band workers cost one
// deadline; a band worker that misses it is terminated and its band
// recomputed by the inference worker (the result is unchanged).
//
// # Geometry
//
// Cell (i, j) of a map (row-major, i the row) sees model-input pixels
// [stride*j, stride*j+patch) x [stride*i, stride*i+patch).
package protocol
