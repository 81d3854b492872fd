"""Generate the resampling references for the preprocess package tests.

Run from the repository root with Debian's PyTorch:

    /usr/bin/python3 preprocess/testdata/gen_resize_ref.py

It draws a deterministic 160x96 test image (gradients, 1- and 3-pixel
checkerboards, thin lines, sharp colour edges, a patch of seeded noise),
saves it as resize_src.png, resizes it with
F.interpolate(mode="bilinear", antialias=True, align_corners=False), the
resampling the model was trained with, rounds to uint8 and saves each result
as a PNG next to resize_ref.json, which lists the cases. The squash and crop
cases reproduce the model-input geometry independently of the Go code.
"""

import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
W, H = 160, 96


def test_image():
    y, x = np.mgrid[0:H, 0:W]
    img = np.zeros((H, W, 3), np.float64)
    img[..., 0] = 255 * x / (W - 1)
    img[..., 1] = 255 * y / (H - 1)
    img[..., 2] = 128 + 100 * np.sin(x / 7.0) * np.cos(y / 5.0)
    # 1-pixel checkerboard (worst case for aliasing) and a 3-pixel one.
    img[8:40, 8:56] = np.where(((x + y) % 2 == 0)[8:40, 8:56, None], 255, 0)
    img[8:40, 64:112] = np.where((((x // 3) + (y // 3)) % 2 == 0)[8:40, 64:112, None], 230, 20)
    # Sharp colour blocks.
    img[48:88, 8:40] = (220, 30, 40)
    img[48:88, 40:72] = (20, 200, 60)
    img[48:88, 72:104] = (30, 40, 210)
    # Thin lines.
    img[50:86, 110] = 255
    img[60, 108:152] = 0
    img[70:72, 108:152] = (255, 255, 0)
    # Seeded noise patch.
    rng = np.random.RandomState(20190101)
    img[10:34, 124:148] = rng.randint(0, 256, (24, 24, 3))
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def resize(arr, w, h):
    x = torch.from_numpy(arr).permute(2, 0, 1)[None].float()
    y = F.interpolate(x, size=(h, w), mode="bilinear", antialias=True, align_corners=False)
    return y.round().clamp(0, 255).to(torch.uint8)[0].permute(1, 2, 0).numpy()


def round_half_up(v):
    return int(math.floor(v + 0.5))


def main():
    src = test_image()
    Image.fromarray(src).save(os.path.join(HERE, "resize_src.png"), optimize=True)
    cases = []

    def save(name, arr, **kw):
        Image.fromarray(np.ascontiguousarray(arr)).save(os.path.join(HERE, name + ".png"), optimize=True)
        cases.append(dict(name=name, file=name + ".png", **kw))

    for w, h in [(37, 23), (19, 11), (200, 120), (61, 160), (160, 40)]:
        save("resize_%dx%d" % (w, h), resize(src, w, h), kind="resize", w=w, h=h)

    for size in (48, 112):
        save("squash_%d" % size, resize(src, size, size), kind="squash", size=size)

    for size in (32, 64):
        short = round_half_up(size * 256 / 224)
        if W <= H:
            rw, rh = short, round_half_up(H * short / W)
        else:
            rw, rh = round_half_up(W * short / H), short
        ox, oy = (rw - size) // 2, (rh - size) // 2
        out = resize(src, rw, rh)[oy:oy + size, ox:ox + size]
        save("crop_%d" % size, out, kind="crop", size=size, resized=[rw, rh], offset=[ox, oy])

    with open(os.path.join(HERE, "resize_ref.json"), "w") as f:
        json.dump(dict(source="resize_src.png", torch=torch.__version__, cases=cases), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
