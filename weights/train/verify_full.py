"""Full-size BagNet-33 check against PyTorch (`make verify-torch`).

Builds the authors' full-width BagNet-33 (1000 classes, 18.3 M parameters)
with random weights and data-derived BN statistics, saves it as a legacy
(pre-1.6, like the authors' 2018 checkpoints) and a zip checkpoint, and writes
PyTorch's float64 logits and top-5 evidence maps for a synthetic 224x224 image.
The Go test weights/pth TestVerifyTorch (run with BAGNET_VERIFY_DIR set)
converts the checkpoint and compares.

    /usr/bin/python3 weights/train/verify_full.py build/verify
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bagnet import BagNet  # noqa: E402
from make_fixtures import calibrate, make_image, preprocess, write_safetensors  # noqa: E402


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "build/verify"
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    rng = np.random.default_rng(0)
    torch.set_num_threads(2)
    model = BagNet("bagnet33", 1.0, 1000)
    imgs = [make_image(224, 224, rng) for _ in range(3)]
    batch = torch.cat([preprocess(im, torch.float32) for im in imgs])
    calibrate(model, batch, gen)
    sd = model.state_dict()
    torch.save(sd, os.path.join(out, "bagnet32-full.pth.tar"), _use_new_zipfile_serialization=False)
    torch.save(sd, os.path.join(out, "bagnet32-full.pth"))
    ref = model.double().eval()
    tensors = {}
    for i, im in enumerate(imgs):
        x = preprocess(im, torch.float64)
        with torch.no_grad():
            logits = ref(x)[0]
            ev = ref.evidence(x)[0]
        tensors[f"img{i}"] = torch.from_numpy(im)
        tensors[f"img{i}.logits"] = logits.float()
        top = logits.argsort(descending=True)[:5]
        tensors[f"img{i}.top5"] = top.float()
        tensors[f"img{i}.evidence_top5"] = ev[:, :, top].float()
    write_safetensors(os.path.join(out, "ref.safetensors"), tensors, {"arch": "bagnet33", "width": "1"})
    print(f"wrote {out}: full BagNet-33 checkpoints and PyTorch references for {len(imgs)} images")


if __name__ == "__main__":
    main()
