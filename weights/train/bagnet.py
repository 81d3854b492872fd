"""BagNet in PyTorch with the authors' state-dict key layout.

Brendel & Bethge, "Approximating CNNs with Bag-of-local-Features models works
surprisingly well on ImageNet" (ICLR 2019). This mirrors the authors'
bagnets/pytorchnet.py (same module names, so their checkpoints load), plus a
width multiplier for our own smaller models. It is shared by the training
script (train.py) and the golden-fixture writer (make_fixtures.py); the Go
engine in model/ is verified against it.
"""
import torch
import torch.nn as nn

# Number of leading 3x3 blocks per stage (the rest are 1x1).
KERNEL3 = {
    "bagnet9": [1, 1, 0, 0],
    "bagnet17": [1, 1, 1, 0],
    "bagnet33": [1, 1, 1, 1],
}
PATCH = {"bagnet9": 9, "bagnet17": 17, "bagnet33": 33}
LAYERS = [3, 4, 6, 3]
STRIDES = [2, 2, 2, 1]


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, kernel_size=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=kernel_size, stride=stride,
                               padding=0, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        residual = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            residual = self.downsample(x)
        # The 3x3 convs have no padding: crop the identity at the bottom/right.
        residual = residual[:, :, : out.size(2), : out.size(3)]
        return self.relu(out + residual)


def channels(width):
    """Stem width and the four stages' planes for a width multiplier."""
    return [max(1, int(round(c * width))) for c in (64, 64, 128, 256, 512)]


class BagNet(nn.Module):
    def __init__(self, arch="bagnet33", width=1.0, num_classes=1000):
        super().__init__()
        kernel3 = KERNEL3[arch]
        stem, *planes = channels(width)
        self.arch, self.width, self.num_classes = arch, width, num_classes
        self.inplanes = stem
        self.conv1 = nn.Conv2d(3, stem, kernel_size=1, stride=1, padding=0, bias=False)
        self.conv2 = nn.Conv2d(stem, stem, kernel_size=3, stride=1, padding=0, bias=False)
        self.bn1 = nn.BatchNorm2d(stem, momentum=0.001)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(planes[0], LAYERS[0], STRIDES[0], kernel3[0])
        self.layer2 = self._make_layer(planes[1], LAYERS[1], STRIDES[1], kernel3[1])
        self.layer3 = self._make_layer(planes[2], LAYERS[2], STRIDES[2], kernel3[2])
        self.layer4 = self._make_layer(planes[3], LAYERS[3], STRIDES[3], kernel3[3])
        self.fc = nn.Linear(planes[3] * Bottleneck.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        # Zero-init the last BN of each block: every block starts as identity.
        for m in self.modules():
            if isinstance(m, Bottleneck):
                nn.init.constant_(m.bn3.weight, 0)

    def _make_layer(self, planes, blocks, stride, kernel3):
        downsample = None
        if stride != 1 or self.inplanes != planes * Bottleneck.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * Bottleneck.expansion, kernel_size=1,
                          stride=stride, bias=False),
                nn.BatchNorm2d(planes * Bottleneck.expansion),
            )
        layers = [Bottleneck(self.inplanes, planes, stride, downsample,
                             kernel_size=3 if kernel3 > 0 else 1)]
        self.inplanes = planes * Bottleneck.expansion
        for i in range(1, blocks):
            layers.append(Bottleneck(self.inplanes, planes, kernel_size=3 if kernel3 > i else 1))
        return nn.Sequential(*layers)

    def features(self, x):
        x = self.relu(self.bn1(self.conv2(self.conv1(x))))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        return self.layer4(x)

    def evidence(self, x):
        """Patch evidence: the linear head at every position, (N, H', W', classes)."""
        f = self.features(x).permute(0, 2, 3, 1)
        return f @ self.fc.weight.t()  # without the bias: mean(evidence) + bias = logits

    def forward(self, x):
        f = self.features(x)
        return self.fc(f.mean(dim=(2, 3)))


def count_macs(model, size):
    """Multiply-accumulates of one forward pass at size x size (convs and the head)."""
    macs = [0]

    def hook(m, inp, out):
        if isinstance(m, nn.Conv2d):
            k = m.kernel_size[0] * m.kernel_size[1]
            macs[0] += out.numel() // out.size(0) * m.in_channels * k // m.groups
        elif isinstance(m, nn.Linear):
            macs[0] += m.in_features * m.out_features

    hs = [m.register_forward_hook(hook) for m in model.modules()
          if isinstance(m, (nn.Conv2d, nn.Linear))]
    was = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    model.train(was)
    for h in hs:
        h.remove()
    # The head runs at every position for the evidence map; the pooled logits need it once.
    return macs[0]


def count_params(model):
    return sum(p.numel() for p in model.parameters())
