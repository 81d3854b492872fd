"""Generate the WebP test files of the preprocess package tests.

Run from the repository root (needs Debian's webp package for cwebp/dwebp):

    /usr/bin/python3 preprocess/testdata/gen_webp.py

webp_src.png is a synthetic 64x48 RGBA image: 16x16 flat blocks of black,
white, grey, red, green, blue, yellow, cyan, magenta and a half-transparent
orange, a horizontal grey ramp and a colour gradient. From it:

    cwebp -q 90 -noalpha      -> webp_lossy.webp   (VP8, lossy)
    cwebp -q 90 -alpha_q 100  -> webp_alpha.webp   (VP8X + ALPH, lossy with alpha)
    cwebp -lossless -exact    -> webp_lossless.webp (VP8L)

and libwebp's own decodings with nearest-neighbour chroma upsampling
(dwebp -nofancy -nodither) as references: webp_lossy_ref.png, webp_alpha_ref.png.
"""

import os
import subprocess

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))

BLOCKS = [
    [(0, 0, 0, 255), (255, 255, 255, 255), (128, 128, 128, 255), (255, 0, 0, 255)],
    [(0, 255, 0, 255), (0, 0, 255, 255), (255, 255, 0, 255), (0, 255, 255, 255)],
    [(255, 0, 255, 255), (255, 128, 0, 128), None, None],
]


def main():
    img = np.zeros((48, 64, 4), np.uint8)
    for by, row in enumerate(BLOCKS):
        for bx, c in enumerate(row):
            if c is not None:
                img[16 * by:16 * by + 16, 16 * bx:16 * bx + 16] = c
    x = np.arange(32)
    img[32:40, 32:64, :3] = (x * 255 // 31)[None, :, None]
    img[40:48, 32:64, 0] = (x * 8)[None, :]
    img[40:48, 32:64, 1] = 200 - (x * 6)[None, :]
    img[40:48, 32:64, 2] = 90
    img[32:48, 32:64, 3] = 255
    src = os.path.join(HERE, "webp_src.png")
    Image.fromarray(img, "RGBA").save(src, optimize=True)

    def run(*args):
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    p = lambda name: os.path.join(HERE, name)
    run("cwebp", "-quiet", "-q", "90", "-noalpha", src, "-o", p("webp_lossy.webp"))
    run("cwebp", "-quiet", "-q", "90", "-alpha_q", "100", src, "-o", p("webp_alpha.webp"))
    run("cwebp", "-quiet", "-lossless", "-exact", src, "-o", p("webp_lossless.webp"))
    run("dwebp", "-quiet", "-nofancy", "-nodither", p("webp_lossy.webp"), "-o", p("webp_lossy_ref.png"))
    run("dwebp", "-quiet", "-nofancy", "-nodither", p("webp_alpha.webp"), "-o", p("webp_alpha_ref.png"))


if __name__ == "__main__":
    main()
