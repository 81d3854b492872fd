"""Train a BagNet on Imagenette on the CPU.

Reproducible (fixed seeds), resumable (a checkpoint every epoch in --out;
rerunning the same command continues where it stopped), one progress line per
epoch. Writes --out/final.pth (a plain state_dict in the authors' key layout,
for `bagnet convert`) and --out/result.json (accuracy, MACs, parameters, time).

    /usr/bin/python3 weights/train/train.py --data ../shared/data/imagenette --out build/train
"""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bagnet import BagNet, count_macs, count_params  # noqa: E402

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def load_split(root, split, cache):
    """All images of a split as one uint8 tensor (N, 3, 224, 224) and labels; cached."""
    path = os.path.join(cache, f"{split}.pt")
    if os.path.exists(path):
        d = torch.load(path)
        return d["x"], d["y"], d["classes"]
    classes = sorted(os.listdir(os.path.join(root, split)))
    xs, ys = [], []
    for ci, c in enumerate(classes):
        folder = os.path.join(root, split, c)
        for name in sorted(os.listdir(folder)):
            im = Image.open(os.path.join(folder, name)).convert("RGB")
            if im.size != (224, 224):
                im = im.resize((224, 224), Image.BILINEAR)
            xs.append(torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1))
            ys.append(ci)
    x, y = torch.stack(xs), torch.tensor(ys)
    os.makedirs(cache, exist_ok=True)
    torch.save({"x": x, "y": y, "classes": classes}, path)
    return x, y, classes


def normalize(x_uint8):
    return (x_uint8.float() / 255.0 - MEAN) / STD


def resize(x_uint8, size):
    """Antialiased bilinear resize of uint8 images, rounded back to uint8 (as the Go
    preprocessing hands uint8 RGB to the model)."""
    if x_uint8.shape[-1] == size and x_uint8.shape[-2] == size:
        return x_uint8
    y = F.interpolate(x_uint8.float(), size=(size, size), mode="bilinear",
                      antialias=True, align_corners=False)
    return y.round().clamp(0, 255).to(torch.uint8)


def augment(x_uint8, size, gen, scale=(0.35, 1.0), ratio=(3 / 4, 4 / 3)):
    """RandomResizedCrop + horizontal flip, per image."""
    n, _, h, w = x_uint8.shape
    out = torch.empty(n, 3, size, size, dtype=torch.uint8)
    for i in range(n):
        for _ in range(10):
            area = h * w * (scale[0] + (scale[1] - scale[0]) * torch.rand(1, generator=gen).item())
            logr = math.log(ratio[0]) + (math.log(ratio[1]) - math.log(ratio[0])) * torch.rand(1, generator=gen).item()
            ar = math.exp(logr)
            cw, ch = int(round(math.sqrt(area * ar))), int(round(math.sqrt(area / ar)))
            if 0 < cw <= w and 0 < ch <= h:
                break
        else:
            cw, ch = w, h
        top = torch.randint(0, h - ch + 1, (1,), generator=gen).item()
        left = torch.randint(0, w - cw + 1, (1,), generator=gen).item()
        crop = x_uint8[i: i + 1, :, top: top + ch, left: left + cw].float()
        crop = F.interpolate(crop, size=(size, size), mode="bilinear", antialias=True,
                             align_corners=False)
        if torch.rand(1, generator=gen).item() < 0.5:
            crop = crop.flip(3)
        out[i] = crop[0].round().clamp(0, 255).to(torch.uint8)
    return out


def recalibrate_bn(model, x, size, batch=200):
    """Re-estimate every BatchNorm's running statistics as exact averages over
    x (test-time preprocessing, no augmentation). The authors' stem BN has
    momentum 0.001, so after a short schedule its running statistics are still
    far from the data's and eval-mode accuracy collapses (epoch 3 here: 49%
    train, 19% val); one forward pass over the training images fixes it
    without touching a learned weight."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average: the exact mean over batches
    model.train()
    with torch.no_grad():
        for i in range(0, len(x), batch):
            model(normalize(resize(x[i: i + batch], size)).contiguous(memory_format=torch.channels_last))
    for m, mom in zip(bns, saved):
        m.momentum = mom
    model.eval()


def evaluate(model, x, y, size, batch=200):
    model.eval()
    correct, n = 0, 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb = normalize(resize(x[i: i + batch], size)).contiguous(memory_format=torch.channels_last)
            correct += (model(xb).argmax(1) == y[i: i + batch]).sum().item()
            n += len(xb)
    model.train()
    return correct / n


def load_init(path):
    """A state dict from a final.pth, or from a float32 model file written by
    `bagnet convert -float` (safetensors: an 8-byte little-endian header
    length, a JSON header, then the raw tensors), which keeps the full state
    dict under the authors' names."""
    if not path.endswith(".safetensors"):
        return torch.load(path)
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    sd = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        if v["dtype"] != "F32":
            raise SystemExit(f"{path}: tensor {k} is {v['dtype']}, want F32 (a float32 model file)")
        b0, b1 = v["data_offsets"]
        sd[k] = torch.frombuffer(bytearray(data[b0:b1]), dtype=torch.float32).reshape(v["shape"])
    # BN's num_batches_tracked is not stored; it is unused with a set momentum.
    return sd


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="../shared/data/imagenette")
    p.add_argument("--out", default="build/train")
    p.add_argument("--arch", default="bagnet33")
    p.add_argument("--width", type=float, default=0.25)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--low-size", type=int, default=0, help="progressive resizing: train the first "
                   "--low-epochs epochs at this size (cheaper), the rest at --size")
    p.add_argument("--low-epochs", type=int, default=0)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.2)
    p.add_argument("--wd", type=float, default=5e-5)
    p.add_argument("--smoothing", type=float, default=0.1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--limit-steps", type=int, default=0, help="stop each epoch after N steps (timing)")
    p.add_argument("--init", default="", help="start from these weights (a final.pth or a float32 "
                   ".safetensors model file) instead of random ones: "
                   "a second cosine cycle (warm restart) with a fresh optimizer")
    p.add_argument("--no-bn-recal", action="store_true", help="keep the running BN statistics "
                   "instead of re-estimating them after training (cycle 3 of make train: re-estimating "
                   "cost 0.85 points there)")
    p.add_argument("--cache", default="", help="decoded-image cache folder (default OUT/cache)")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    cache = a.cache or os.path.join(a.out, "cache")

    t0 = time.time()
    xtr, ytr, classes = load_split(a.data, "train", cache)
    xva, yva, _ = load_split(a.data, "val", cache)
    print(f"data: {len(xtr)} train, {len(xva)} val, {len(classes)} classes, loaded in {time.time() - t0:.0f}s", flush=True)

    model = BagNet(a.arch, a.width, len(classes)).to(memory_format=torch.channels_last)
    if a.init:
        missing, unexpected = model.load_state_dict(load_init(a.init), strict=False)
        if unexpected or [k for k in missing if not k.endswith("num_batches_tracked")]:
            raise SystemExit(f"{a.init}: does not match {a.arch} width {a.width}: "
                             f"missing {missing[:5]}, unexpected {unexpected[:5]}")
        print(f"initialised from {a.init}", flush=True)
        if not os.path.exists(os.path.join(a.out, "checkpoint.pth")):
            print(f"initial weights: val top-1 {evaluate(model, xva, yva, a.size) * 100:.2f}%", flush=True)
    macs, params = count_macs(model, a.size), count_params(model)
    print(f"model: {a.arch} width {a.width} at {a.size}px: {macs / 1e9:.3f} GMAC, {params / 1e6:.2f} M params", flush=True)

    decay = [p_ for n_, p_ in model.named_parameters() if p_.ndim > 1]
    no_decay = [p_ for n_, p_ in model.named_parameters() if p_.ndim <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": a.wd},
                           {"params": no_decay, "weight_decay": 0}],
                          lr=a.lr, momentum=0.9, nesterov=True)
    steps_per_epoch = len(xtr) // a.batch
    total = steps_per_epoch * a.epochs
    warm = steps_per_epoch

    def lr_at(step):
        if step < warm:
            return a.lr * (step + 1) / warm
        return a.lr * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))

    crit = nn.CrossEntropyLoss(label_smoothing=a.smoothing)
    ckpt = os.path.join(a.out, "checkpoint.pth")
    start, history, spent = 0, [], 0.0
    if os.path.exists(ckpt):
        c = torch.load(ckpt, weights_only=False)
        model.load_state_dict(c["model"])
        opt.load_state_dict(c["opt"])
        start, history, spent = c["epoch"], c["history"], c["spent"]
        print(f"resumed after epoch {start}", flush=True)

    for epoch in range(start, a.epochs):
        te = time.time()
        gen = torch.Generator().manual_seed(a.seed * 1000 + epoch)
        perm = torch.randperm(len(xtr), generator=gen)
        model.train()
        tl, tc, tn = 0.0, 0, 0
        for s in range(steps_per_epoch):
            if a.limit_steps and s >= a.limit_steps:
                break
            idx = perm[s * a.batch: (s + 1) * a.batch]
            size = a.low_size if epoch < a.low_epochs else a.size
            xb = normalize(augment(xtr[idx], size, gen)).contiguous(memory_format=torch.channels_last)
            yb = ytr[idx]
            for g in opt.param_groups:
                g["lr"] = lr_at(epoch * steps_per_epoch + s)
            out = model(xb)
            loss = crit(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            tl += loss.item() * len(yb)
            tc += (out.argmax(1) == yb).sum().item()
            tn += len(yb)
            if s % 20 == 0:
                print(f"  epoch {epoch + 1} step {s}/{steps_per_epoch} loss {tl / tn:.3f} "
                      f"{(time.time() - te) / (s + 1):.2f}s/step", flush=True)
        last = epoch + 1 == a.epochs
        va = evaluate(model, xva, yva, a.size) if (last or (epoch + 1) % a.eval_every == 0) else None
        dt = time.time() - te
        spent += dt
        left = (a.epochs - epoch - 1) * spent / (epoch + 1)  # spent covers every epoch so far
        history.append({"epoch": epoch + 1, "loss": tl / tn, "train_acc": tc / tn, "val_acc": va, "seconds": dt})
        vs = f"{va * 100:.2f}%" if va is not None else "  -   "
        print(f"epoch {epoch + 1:2d}/{a.epochs} loss {tl / tn:.3f} train {tc / tn * 100:.2f}% "
              f"val {vs} {dt:.0f}s, about {left / 60:.0f} min left", flush=True)
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": epoch + 1,
                    "history": history, "spent": spent}, ckpt + ".tmp")
        os.replace(ckpt + ".tmp", ckpt)

    tr = time.time()
    if a.no_bn_recal:
        val = history[-1]["val_acc"]
    else:
        recalibrate_bn(model, xtr, a.size)
        val = evaluate(model, xva, yva, a.size)
        print(f"BN statistics re-estimated on {len(xtr)} training images in {time.time() - tr:.0f}s: "
              f"val top-1 {val * 100:.2f}% (before: {history[-1]['val_acc'] * 100:.2f}%)", flush=True)
    sd = {k: v.contiguous() for k, v in model.state_dict().items()}
    torch.save(sd, os.path.join(a.out, "final.pth"))
    res = {"arch": a.arch, "width": a.width, "size": a.size, "classes": classes,
           "macs": macs, "params": params, "val_top1": val, "train_seconds": spent,
           "epochs": a.epochs, "low_size": a.low_size, "low_epochs": a.low_epochs,
           "init": a.init, "batch": a.batch, "lr": a.lr, "wd": a.wd,
           "smoothing": a.smoothing, "seed": a.seed, "torch": torch.__version__,
           "val_top1_before_bn_recalibration": history[-1]["val_acc"],
           "history": history}
    with open(os.path.join(a.out, "result.json"), "w") as f:
        json.dump(res, f, indent=1)
    print(f"done: val top-1 {val * 100:.2f}% in {spent / 60:.1f} min; wrote {a.out}/final.pth", flush=True)


if __name__ == "__main__":
    main()
