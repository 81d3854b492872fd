"""Export a random-weight full-size BagNet-33 (1000 classes) to ONNX for the
browser benchmark's onnxruntime-web baseline (make bench-browser).

    /usr/bin/python3 weights/train/export_onnx.py build/ort/bagnet33.onnx
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bagnet import BagNet  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "build/ort/bagnet33.onnx"
torch.manual_seed(0)
model = BagNet("bagnet33", 1.0, 1000).eval()
os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
torch.onnx.export(model, torch.zeros(1, 3, 224, 224), out, opset_version=13,
                  input_names=["input"], output_names=["logits"])
print(f"wrote {out} ({os.path.getsize(out)} bytes)")
