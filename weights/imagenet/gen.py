#!/usr/bin/python3
"""Writes classes.tsv, the 1000 ImageNet-1k classes (index, WordNet id, name).

Sources (both public fact lists):
  - WordNet ids in index order: Keras' imagenet_class_index.json
    (https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json,
    {"0": ["n01440764", "tench"], ...}; the copy used had SHA-256
    b5f776e83563ad894d66a723bac957f53dfa9baf377458b27ae9def80c14ebc5).
    The index order is the sorted order of the ids; this script checks it.
  - Names: torchvision's _IMAGENET_CATEGORIES (torchvision/models/_meta.py,
    Debian python3-torchvision), the names torchvision's ImageNet weights use.

Usage: /usr/bin/python3 gen.py imagenet_class_index.json > classes.tsv
"""
import json
import sys

import torchvision
from torchvision.models._meta import _IMAGENET_CATEGORIES as names

index = json.load(open(sys.argv[1]))
wnids = [index[str(i)][0] for i in range(len(index))]
assert len(wnids) == len(names) == 1000, (len(wnids), len(names))
assert wnids == sorted(wnids) and len(set(wnids)) == 1000
assert len(set(names)) == 1000
print("# ImageNet-1k (ILSVRC 2012) classes: index<TAB>WordNet id<TAB>name.")
print("# Written by gen.py: WordNet ids from Keras' imagenet_class_index.json,")
print("# names from torchvision %s's _IMAGENET_CATEGORIES (Debian python3-torchvision)."
      % torchvision.__version__.split("+")[0])
for i, (wnid, name) in enumerate(zip(wnids, names)):
    assert "\t" not in name and name.strip() == name and name
    print("%d\t%s\t%s" % (i, wnid, name))
