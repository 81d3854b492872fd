//go:build js && wasm

package main

import (
	"syscall/js"

	"github.com/bagnetweb/bagnet/protocol"
)

// onPNG answers a protocol.PNGRequest with the PNG file.
func (w *worker) onPNG(id *int, raw []byte, msg js.Value) error {
	var req protocol.PNGRequest
	if err := unmarshal(raw, &req); err != nil {
		return err
	}
	b, err := encodePNG(req.W, req.H, bytesOf(msg.Get(protocol.FieldInput)))
	if err != nil {
		return err
	}
	return postWith(&protocol.PNGReply{Header: protocol.Header{Type: protocol.KindPNG, ID: id}}, protocol.FieldBytes, uint8Array(b))
}

// onCrops answers a protocol.CropsRequest with the patches' pictures.
func (w *worker) onCrops(id *int, raw []byte, msg js.Value) error {
	var req protocol.CropsRequest
	buf, err := withBytes(raw, msg, &req, "crops: no image bytes")
	if err != nil {
		return err
	}
	pix, err := crops(buf, req.Boxes, req.Tile)
	if err != nil {
		return err
	}
	return postWith(&protocol.CropsReply{Header: protocol.Header{Type: protocol.KindCrops, ID: id}, Tile: req.Tile, Count: len(req.Boxes)},
		protocol.FieldCrops, uint8Array(pix))
}
