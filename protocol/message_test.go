package protocol

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// The messages' JSON parts are what both ends and the JavaScript glue
// (web/app.js, web/worker.js, cmd/benchbrowser's page, the browser tests)
// read and write: each type must spell its fields exactly so.
func TestMessageJSON(t *testing.T) {
	id := 7
	for _, tt := range []struct {
		m    Message
		want string
	}{
		{&LoadRequest{Header: Header{Type: KindLoad}, URL: "model.safetensors", Size: 3}, `{"type":"load","id":null,"url":"model.safetensors","size":3}`},
		{&ModelRequest{Header: Header{Type: KindModel, ID: &id}, Name: "m.safetensors"}, `{"type":"model","id":7,"name":"m.safetensors"}`},
		{&ClassifyRequest{Header: Header{Type: KindClassify, ID: &id}, TopK: 5}, `{"type":"classify","id":7,"topK":5}`},
		{&ScrambleRequest{Header: Header{Type: KindScramble, ID: &id}, Of: 3, Seed: 3001, TopK: 5}, `{"type":"scramble","id":7,"of":3,"seed":3001,"topK":5}`},
		{&OccludeRequest{Header: Header{Type: KindOcclude, ID: &id}, Of: 3, Rect: []int{1, 2, 3, 4}, TopK: 5}, `{"type":"occlude","id":7,"of":3,"rect":[1,2,3,4],"topK":5}`},
		{&EvidenceRequest{Header: Header{Type: KindEvidence, ID: &id}, Class: 2}, `{"type":"evidence","id":7,"class":2}`},
		{&BenchRequest{Header: Header{Type: KindBench, ID: &id}, Runs: 3}, `{"type":"bench","id":7,"runs":3}`},
		{&HangRequest{Header: Header{Type: KindHang}, Ms: 2500}, `{"type":"hang","id":null,"ms":2500}`},
		{&Header{Type: KindCrash}, `{"type":"crash","id":null}`},
		{&Header{Type: KindLoadBytes}, `{"type":"loadBytes","id":null}`},
		{&RowsRequest{Header: Header{Type: KindRows, ID: &id}, R0: 0, R1: 2, C0: 1, C1: 4}, `{"type":"rows","id":7,"r0":0,"r1":2,"c0":1,"c1":4}`},
		{&RowsReply{Header: Header{Type: KindRows, ID: &id}}, `{"type":"rows","id":7}`},
		{&Progress{Header: Header{Type: KindProgress}, What: ProgressWeights, Loaded: 10, Total: 20}, `{"type":"progress","id":null,"what":"weights","loaded":10,"total":20}`},
		{&Loading{Header: Header{Type: KindLoading, ID: &id}, MACs: 99}, `{"type":"loading","id":7,"macs":99}`},
		{&Ready{Header: Header{Type: KindReady}}, `{"type":"ready","id":null}`},
		{&Ready{Header: Header{Type: KindReady, ID: &id}, Info: &Info{Name: "n", Source: "s"}}, `{"type":"ready","id":7,"info":{"name":"n","arch":"","width":0,"classes":null,"inputSize":0,"resize":"","dtype":"","patch":0,"stride":0,"mapH":0,"mapW":0,"macs":0,"params":0,"weightsBytes":0,"kernel":"","warmupMs":0,"source":"s"}}`},
		{&ResultReply{Header: Header{Type: KindResult, ID: &id}, Meta: Meta{Result: Result{Model: "m"}, Occlusion: &Occlusion{Of: 3}}},
			`{"type":"result","id":7,"result":{"model":"m","top":null,"logits":null,"map":{"h":0,"w":0}},"bias":null,"transform":{"mode":"","size":0,"srcW":0,"srcH":0,"resizedW":0,"resizedH":0,"offX":0,"offY":0},"timings":{"decode_ms":0,"preprocess_ms":0,"infer_ms":0,"evidence_ms":0},"occlusion":{"of":3,"rect":[0,0,0,0],"rows":[0,0],"cols":[0,0],"recomputed":0,"workers":0,"cells":0}}`},
		{&EvidenceReply{Header: Header{Type: KindEvidence, ID: &id}, Class: 2, Bias: 0.5}, `{"type":"evidence","id":7,"class":2,"bias":0.5}`},
		{&EngineChange{Header: Header{Type: KindEngine}, Kernel: "k"}, `{"type":"engine","id":null,"kernel":"k"}`},
		{&BenchReply{Header: Header{Type: KindBench, ID: &id}, Bench: &Bench{Engine: "e"}}, `{"type":"bench","id":7,"bench":{"engine":"e","size":0,"macs":0,"runsMs":null,"gemms":null,"requantMs":0,"timedMs":0}}`},
		{&ErrorReply{Header: Header{Type: KindError}, What: WhatWorker, Message: "gone", Dead: true}, `{"type":"error","id":null,"what":"worker","message":"gone","dead":true}`},
		{&ErrorReply{Header: Header{Type: KindError, ID: &id}, What: KindClassify, Message: "bad"}, `{"type":"error","id":7,"what":"classify","message":"bad"}`},
	} {
		b, err := json.Marshal(tt.m)
		if err != nil {
			t.Fatalf("%T: %v", tt.m, err)
		}
		if string(b) != tt.want {
			t.Errorf("%T:\n got %s\nwant %s", tt.m, b, tt.want)
		}
		// And back: a message reads its own JSON, its header included.
		var h Header
		if err := json.Unmarshal(b, &h); err != nil || h.Type != tt.m.Head().Type || h.IDOr(-1) != tt.m.Head().IDOr(-1) {
			t.Errorf("%T: header read back as %+v (%v)", tt.m, h, err)
		}
	}
}

func TestOptionsJSON(t *testing.T) {
	no := false
	var o Options
	in := `{"wasm":"worker.wasm","bytes":12,"simd":false,"failBands":2,"testHooks":true,"hangBands":1,"workers":4}`
	if err := json.Unmarshal([]byte(in), &o); err != nil {
		t.Fatal(err)
	}
	want := Options{Wasm: "worker.wasm", Bytes: 12, SIMD: &no, FailBands: 2, TestHooks: true, HangBands: 1, Workers: 4}
	if o.Wasm != want.Wasm || o.Bytes != want.Bytes || o.SIMD == nil || *o.SIMD || o.FailBands != 2 || !o.TestHooks || o.HangBands != 1 || o.Workers != 4 {
		t.Errorf("read %s as %+v", in, o)
	}
	// A band worker's options: its parent's, with role and workers set.
	o.Role, o.Workers = RoleBand, 1
	b, _ := json.Marshal(o)
	if got := string(b); got != `{"wasm":"worker.wasm","bytes":12,"simd":false,"role":"band","workers":1,"failBands":2,"testHooks":true,"hangBands":1}` {
		t.Errorf("band options %s", got)
	}
}

// The JavaScript glue cannot import this package; the names it spells must
// be this package's (see the comments at the top of web/app.js and
// web/worker.js).
func TestGlueSpellsProtocolNames(t *testing.T) {
	for file, names := range map[string][]string{
		"../web/worker.js": {
			FieldType + ": '" + string(KindProgress) + "', what: '" + ProgressWorker + "'",
			FieldType + ": '" + string(KindError) + "', id: null, what: '" + string(WhatWorker) + "', dead: true",
			"opts.wasm", "opts.bytes", "opts.simd", "opts.simdWasm",
		},
		"../web/app.js": {
			FieldType + ": '" + string(KindLoad) + "', url: site.model, size:",
			"m." + FieldType + " === '" + string(KindProgress) + "'",
			"m." + FieldType + " === '" + string(KindError) + "'",
			FieldType + ": '" + string(KindError) + "', id: null, what: '" + string(WhatWorker) + "', dead: true",
			"workerOpts.simd", "workerOpts.failBands", "workerOpts.testHooks", "workerOpts.hangBands", "workerOpts.workers",
		},
	} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if !strings.Contains(string(b), n) {
				t.Errorf("%s does not spell %q", file, n)
			}
		}
	}
}
