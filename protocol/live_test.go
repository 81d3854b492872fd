package protocol

import (
	"encoding/json"
	"testing"
)

func TestLiveMessageJSON(t *testing.T) {
	id := 7
	for _, tt := range []struct {
		m    Message
		want string
	}{
		{&LiveRequest{Header: Header{Type: KindLive, ID: &id}, Size: 224, TopK: 5}, `{"type":"live","id":7,"size":224,"topK":5}`},
		{&LiveReply{Header: Header{Type: KindLive, ID: &id}, Top: []Prediction{{Index: 0, ID: "n01440764", Name: "tench", Logit: 3, Prob: 0.5}},
			Class: 0, Bias: 0.25, Map: MapSize{H: 24, W: 24}, InferMs: 12.5},
			`{"type":"live","id":7,"top":[{"index":0,"id":"n01440764","name":"tench","logit":3,"prob":0.5}],"class":0,"bias":0.25,"map":{"h":24,"w":24},"inferMs":12.5}`},
	} {
		b, err := json.Marshal(tt.m)
		if err != nil {
			t.Fatalf("%T: %v", tt.m, err)
		}
		if string(b) != tt.want {
			t.Errorf("%T:\n got %s\nwant %s", tt.m, b, tt.want)
		}
		var h Header
		if err := json.Unmarshal(b, &h); err != nil || h.Type != KindLive || h.IDOr(-1) != id {
			t.Errorf("%T: header read back as %+v (%v)", tt.m, h, err)
		}
	}
}
