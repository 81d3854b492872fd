"""Write the golden PyTorch fixtures in testdata/fixtures/.

Regenerate (from the repository root; takes a few seconds on one CPU thread):

    /usr/bin/python3 weights/train/make_fixtures.py

then commit testdata/fixtures/. Everything is seeded, so a rerun with the same
torch (Debian's 1.13) and numpy gives the same values. Optional argument: the
output folder (default testdata/fixtures next to this repository's root).

What it writes (all tiny random models: width WIDTH, CLASSES classes):

  <arch>.pth                 torch.save zip format, plain state_dict
  <arch>_legacy.pth.tar      torch.save(..., _use_new_zipfile_serialization=False),
                             the pre-1.6 format of the authors' 2018 checkpoints
  bagnet33_wrapped.pth       {'state_dict': {'module.' + k: v}, 'epoch': 3}
  <arch>_state.safetensors   the same state dict as contiguous F32 (no
                             num_batches_tracked), to check the pickle reader
  <arch>_ref.safetensors     reference outputs for every input image, computed in
                             float64 and cast to F32: imgK.logits (classes),
                             imgK.evidence (H' x W' x classes, without the fc bias)
                             and imgK.features (H' x W' x C, HWC order)
  inputs.safetensors         imgK: U8 H x W x 3 RGB images (64x64, 80x96, 97x97)

and small files for the reader's error and conversion paths:

  foreign.pth    a plain Python pickle of a list (not a PyTorch checkpoint)
  list.pth       torch.save of a list of tensors (a checkpoint, not a state dict)
  nontensor.pth  a state dict with a string value under "note"
  nested.pth     a state dict with a dict nested under "block"
  empty.pth      an empty state dict
  params.pth     nn.Parameter values (torch._utils._rebuild_parameter)
  modelkey.pth   {'model': state dict, 'optimizer': ..., 'args': argparse.Namespace,
                 'best': numpy float64}: the state dict under "model", next to
                 entries of classes a reader does not know
  module.pth     a pickled nn.Linear module (not a state dict)
  dtypes.pth     the same values as f32, f64, f16 and bf16 tensors plus an int64
                 one; "f64_round" holds float64 values that float32 cannot
                 represent and "f64_round_f32" their float32 rounding by torch

Tensor views: in every checkpoint (all serialisations) fc.weight is the
transpose of a (features x classes) matrix and fc.bias a slice at offset
features*classes + 3 of the same storage, and layer1.0.conv2.weight is a
permuted view (strides of a kh x kw x out x in array). A reader must gather
them with the storage offset and strides.

Preprocessing of the reference: x = (uint8 / 255 - mean) / std per channel,
with the ImageNet mean and std below, in float64. BatchNorm eps is 1e-5.
"""
import argparse
import collections
import json
import os
import pickle
import random
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bagnet import BagNet  # noqa: E402

ARCHS = ["bagnet9", "bagnet17", "bagnet33"]
WIDTH = 0.125
CLASSES = 10
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
SIZES = [(64, 64), (80, 96), (97, 97)]  # (H, W)
SEED = 20190101

DTYPES = {
    torch.float32: ("F32", "<f4"),
    torch.float64: ("F64", "<f8"),
    torch.uint8: ("U8", "u1"),
    torch.int8: ("I8", "i1"),
    torch.int64: ("I64", "<i8"),
}


def write_safetensors(path, tensors, metadata=None):
    """A minimal safetensors writer: 8-byte LE header length, JSON header
    {name: {dtype, shape, data_offsets}} plus "__metadata__" (strings only),
    padded with spaces to a multiple of 8, then the raw little-endian data."""
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        t = t.detach().contiguous()
        dtype, npdtype = DTYPES[t.dtype]
        b = t.numpy().astype(npdtype, copy=False).tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    js = json.dumps(header, separators=(",", ":")).encode()
    js += b" " * (-len(js) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(js)))
        f.write(js)
        for b in blobs:
            f.write(b)


def make_image(h, w, rng):
    """A smooth colour gradient with a few filled shapes and mild noise, uint8 HWC."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.empty((h, w, 3))
    for c in range(3):
        a, b, p = rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(0, 2 * np.pi)
        img[..., c] = 128 + 60 * (a * x / w + b * y / h) + 40 * np.sin(p + 6 * x / w + 4 * y / h)
    for _ in range(4):
        colour = rng.uniform(0, 255, size=3)
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(6, min(h, w) / 3)
        if rng.uniform() < 0.5:
            mask = (y - cy) ** 2 + (x - cx) ** 2 < r * r
        else:
            mask = (abs(y - cy) < r) & (abs(x - cx) < 0.6 * r)
        img[mask] = colour
    img += rng.normal(0, 8, size=img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def preprocess(img_u8, dtype):
    """uint8 HWC -> normalised NCHW of the given dtype (float64 arithmetic)."""
    x = torch.from_numpy(img_u8).permute(2, 0, 1).unsqueeze(0).double() / 255.0
    mean = torch.tensor(MEAN, dtype=torch.float64).view(1, 3, 1, 1)
    std = torch.tensor(STD, dtype=torch.float64).view(1, 3, 1, 1)
    return ((x - mean) / std).to(dtype)


def calibrate(model, batch, gen):
    """Give every BatchNorm non-trivial eval-mode parameters that keep the
    activations healthy: running statistics near the real per-channel
    statistics on `batch` (mean shifted by N(0, 0.3) std, variance scaled by
    U(0.5, 2)), weight U(0.5, 1.5) (bn3 included, which the init zeroes), bias
    N(0, 0.2). BNs are set one at a time in forward order."""
    model.eval()
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    seen = {}
    for bn in bns:
        h = bn.register_forward_hook(lambda m, i, o: seen.__setitem__("x", i[0].detach()))
        with torch.no_grad():
            model(batch)
        h.remove()
        x = seen["x"].double()
        mean = x.mean(dim=(0, 2, 3))
        var = x.var(dim=(0, 2, 3), unbiased=False).clamp_min(1e-4)
        n = mean.numel()
        with torch.no_grad():
            bn.running_mean.copy_(mean + torch.randn(n, generator=gen, dtype=torch.float64) * 0.3 * var.sqrt())
            bn.running_var.copy_(var * (0.5 + 1.5 * torch.rand(n, generator=gen, dtype=torch.float64)))
            bn.weight.copy_(0.5 + torch.rand(n, generator=gen))
            bn.bias.copy_(torch.randn(n, generator=gen) * 0.2)
            bn.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=gen)))
    # The head: logits of a few units, so evidence maps have varied signs.
    with torch.no_grad():
        f = model.features(batch).mean(dim=(2, 3))
        w = torch.randn(model.fc.weight.shape, generator=gen)
        w *= 4.0 / (f @ w.t()).std()
        model.fc.weight.copy_(w)
        model.fc.bias.copy_(torch.randn(model.fc.bias.shape, generator=gen) * 0.5)


def relu_alive(model, x):
    """The smallest fraction of positive outputs over all ReLU applications."""
    fracs = []
    hooks = [m.register_forward_hook(lambda m, i, o: fracs.append((o > 0).double().mean().item()))
             for m in model.modules() if isinstance(m, nn.ReLU)]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return min(fracs)


def with_views(sd):
    """A copy of sd (same order, same _metadata) where fc.weight/fc.bias share one
    storage (a transposed view and an offset slice) and layer1.0.conv2.weight is a
    permuted view. Values are unchanged."""
    out = collections.OrderedDict((k, v.clone()) for k, v in sd.items())
    out._metadata = sd._metadata
    w, b = sd["fc.weight"], sd["fc.bias"]
    classes, feats = w.shape
    buf = torch.zeros(feats * classes + 3 + classes + 5)
    buf[: feats * classes].view(feats, classes).copy_(w.t())
    buf[feats * classes + 3: feats * classes + 3 + classes].copy_(b)
    out["fc.weight"] = buf[: feats * classes].view(feats, classes).t()
    out["fc.bias"] = buf[feats * classes + 3: feats * classes + 3 + classes]
    c = sd["layer1.0.conv2.weight"]
    out["layer1.0.conv2.weight"] = c.permute(2, 3, 0, 1).contiguous().permute(2, 3, 0, 1)
    assert not out["fc.weight"].is_contiguous() and not out["layer1.0.conv2.weight"].is_contiguous()
    assert out["fc.bias"].storage_offset() == feats * classes + 3
    for k in sd:
        assert torch.equal(out[k], sd[k]), k
    return out


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "testdata", "fixtures")
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    rng = np.random.RandomState(SEED)
    gen = torch.Generator().manual_seed(SEED)

    imgs = [make_image(h, w, rng) for h, w in SIZES]
    write_safetensors(os.path.join(out, "inputs.safetensors"),
                      {f"img{i}": torch.from_numpy(im) for i, im in enumerate(imgs)},
                      {"mean": json.dumps(MEAN), "std": json.dumps(STD),
                       "layout": "HWC uint8 RGB"})
    calib = torch.cat([preprocess(make_image(72, 72, rng), torch.float32) for _ in range(4)])

    for arch in ARCHS:
        model = BagNet(arch, WIDTH, CLASSES)
        calibrate(model, calib, gen)
        sd = model.state_dict()
        torch.save(with_views(sd), os.path.join(out, f"{arch}.pth"))
        torch.save(with_views(sd), os.path.join(out, f"{arch}_legacy.pth.tar"),
                   _use_new_zipfile_serialization=False)
        if arch == "bagnet33":
            v = with_views(sd)
            wrapped = collections.OrderedDict(("module." + k, t) for k, t in v.items())
            torch.save({"state_dict": wrapped, "epoch": 3}, os.path.join(out, "bagnet33_wrapped.pth"))
        write_safetensors(os.path.join(out, f"{arch}_state.safetensors"),
                          {k: t for k, t in sd.items() if t.is_floating_point()},
                          {"arch": arch, "width": WIDTH, "classes": CLASSES})

        ref = BagNet(arch, WIDTH, CLASSES).double().eval()
        ref.load_state_dict(sd)
        refs, notes = {}, []
        for i, im in enumerate(imgs):
            x = preprocess(im, torch.float64)
            with torch.no_grad():
                logits = ref(x)[0]
                ev = ref.evidence(x)[0]
                feats = ref.features(x)[0].permute(1, 2, 0)
            assert torch.allclose(ev.mean(dim=(0, 1)) + ref.fc.bias, logits, atol=1e-10)
            alive = relu_alive(ref, x)
            assert 0.05 < alive, (arch, i, alive)
            assert 0.5 < logits.abs().max() < 30, (arch, i, logits)
            refs[f"img{i}.logits"] = logits.float()
            refs[f"img{i}.evidence"] = ev.float()
            refs[f"img{i}.features"] = feats.float()
            notes.append(f"img{i} {tuple(im.shape[:2])}->{tuple(ev.shape[:2])} "
                         f"|logit|max {logits.abs().max():.2f} relu-alive>={alive:.2f} "
                         f"top {int(logits.argmax())}")
        write_safetensors(os.path.join(out, f"{arch}_ref.safetensors"), refs,
                          {"arch": arch, "width": WIDTH, "classes": CLASSES,
                           "mean": json.dumps(MEAN), "std": json.dumps(STD), "bn_eps": 1e-5,
                           "layout": "logits [classes]; evidence [H' W' classes] without fc.bias; "
                                     "features [H' W' C]; float64 reference cast to float32"})
        print(arch, "; ".join(notes))

    # Small files for the reader's error and conversion paths.
    with open(os.path.join(out, "foreign.pth"), "wb") as f:
        pickle.dump([1, 2, 3], f, protocol=2)
    t = torch.arange(6, dtype=torch.float32).view(2, 3)
    torch.save([t, t], os.path.join(out, "list.pth"))
    torch.save(collections.OrderedDict([("w", t), ("note", "hello")]), os.path.join(out, "nontensor.pth"))
    torch.save({"w": t, "block": {"w": t}}, os.path.join(out, "nested.pth"))
    torch.save(collections.OrderedDict(), os.path.join(out, "empty.pth"))
    torch.save({"w": nn.Parameter(t.clone()), "b": nn.Parameter(torch.tensor([0.5, -2.0]))},
               os.path.join(out, "params.pth"))
    torch.save({"model": collections.OrderedDict([("w", t), ("b", t[0])]),
                "optimizer": {"state": {}, "param_groups": [{"lr": 0.1}]},
                "args": argparse.Namespace(lr=0.1, arch="bagnet9"), "best": np.float64(0.5)},
               os.path.join(out, "modelkey.pth"))
    torch.manual_seed(1)
    torch.save(nn.Linear(2, 2), os.path.join(out, "module.pth"))
    exact = torch.tensor([0.0, 1.0, -2.5, 0.125, 1024.0, -0.75, 3.0, 65504.0])
    f64 = torch.tensor([0.1, -1.0 / 3.0, 2.0 ** -30 * 1.2345, 123456.789, 1e-40, -7e30],
                       dtype=torch.float64)
    torch.save(collections.OrderedDict([
        ("f32", exact), ("f64", exact.double()), ("f16", exact.half()), ("bf16", exact[:6].bfloat16()),
        ("bf16_f32", exact[:6].bfloat16().float()), ("i64", torch.arange(4)),
        ("f64_round", f64), ("f64_round_f32", f64.float()),
    ]), os.path.join(out, "dtypes.pth"))

    total = 0
    for name in sorted(os.listdir(out)):
        size = os.path.getsize(os.path.join(out, name))
        total += size
        print(f"{size:9d}  {name}")
    print(f"{total:9d}  total")


if __name__ == "__main__":
    main()
