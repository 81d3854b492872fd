"""Dynamic int8 quantisation of an fp32 ONNX model, as onnxruntime's
quantize_dynamic does (its Python package is not installable here): every
Conv becomes DynamicQuantizeLinear on its input (uint8, scale from the
tensor's range at run time), ConvInteger with per-tensor uint8 weights, a
Cast and one Mul by the two scales, plus the bias. The head stays fp32.
For make bench's onnxruntime-node int8 baseline; accuracy is not the point.

    /usr/bin/python3 quantize_onnx.py in.onnx out.onnx
"""
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

src, dst = sys.argv[1], sys.argv[2]
m = onnx.load(src)
g = m.graph
inits = {t.name: t for t in g.initializer}
# Weights reach the convs through Identity nodes (shared initializers).
alias = {n.output[0]: n.input[0] for n in g.node if n.op_type == "Identity"}
consts = {n.output[0]: n for n in g.node if n.op_type == "Constant"}


def weight(name):
    while name in alias:
        name = alias[name]
    if name in inits:
        return numpy_helper.to_array(inits[name])
    if name in consts:
        return numpy_helper.to_array(consts[name].attribute[0].t)
    raise SystemExit(f"quantize_onnx: {name} is not a constant")


nodes, new_inits = [], []
convs = 0
for n in g.node:
    if n.op_type != "Conv":
        nodes.append(n)
        continue
    convs += 1
    p = n.name.replace("/", "_") or f"conv{convs}"
    w = weight(n.input[1]).astype(np.float32)
    lo, hi = min(float(w.min()), 0.0), max(float(w.max()), 0.0)
    ws = (hi - lo) / 255 or 1.0
    wzp = int(np.clip(round(-lo / ws), 0, 255))
    wq = np.clip(np.round(w / ws) + wzp, 0, 255).astype(np.uint8)
    new_inits += [numpy_helper.from_array(wq, p + "_wq"),
                  numpy_helper.from_array(np.array(wzp, np.uint8), p + "_wzp"),
                  numpy_helper.from_array(np.array(ws, np.float32), p + "_ws")]
    attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
    nodes += [
        helper.make_node("DynamicQuantizeLinear", [n.input[0]], [p + "_xq", p + "_xs", p + "_xzp"]),
        helper.make_node("ConvInteger", [p + "_xq", p + "_wq", p + "_xzp", p + "_wzp"], [p + "_acc"], **attrs),
        helper.make_node("Cast", [p + "_acc"], [p + "_accf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", [p + "_xs", p + "_ws"], [p + "_s"]),
    ]
    out = n.output[0]
    if len(n.input) > 2 and n.input[2]:
        b = weight(n.input[2]).astype(np.float32).reshape(1, -1, 1, 1)
        new_inits.append(numpy_helper.from_array(b, p + "_b"))
        nodes += [helper.make_node("Mul", [p + "_accf", p + "_s"], [p + "_y"]),
                  helper.make_node("Add", [p + "_y", p + "_b"], [out])]
    else:
        nodes.append(helper.make_node("Mul", [p + "_accf", p + "_s"], [out]))

del g.node[:]
g.node.extend(nodes)
g.initializer.extend(new_inits)
# Drop the fp32 conv weights nothing reads any more.
used = {i for n in g.node for i in n.input}
keep = [t for t in g.initializer if t.name in used]
del g.initializer[:]
g.initializer.extend(keep)
onnx.checker.check_model(m)
onnx.save(m, dst)
print(f"quantize_onnx: {convs} convs to ConvInteger, wrote {dst}")
