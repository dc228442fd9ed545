#!/usr/bin/env python3
# flows_ood_reference.py -- the authors' flows in PyTorch, to make checkpoints in their format.
#
# A reimplementation written for flowood from ../shared/spec/reference-spec.md (sections 1-4),
# with the module attributes arranged so that state_dict() yields the names the authors' code
# gives (docs/import.md lists them): body = addZslot, the logit layer, one passThrough group per
# block of layers (a group wraps each layer as `module1` of a pair whose `module2` is the
# identity), squeezes and factor-outs as groups of their own; weight-normalised convolutions hold
# their nn.Conv2d as `conv`; the coupling's scale is a weight-normed `rescale`.
#
# It is flowood's golden reference: `flowood import --from flows-ood` must load what it writes
# and give the same log-likelihoods (tests/unit/experiment/import_test.cpp, in float64, on the
# same inputs and dequantisation noise). It is not used for any result.
#
# Run with Debian's PyTorch (python3-torch; the pyenv python3 on PATH has none):
#   /usr/bin/python3 scripts/flows_ood_reference.py --fixture tests/data/flows_ood
# The fixture directory gets, per case, CASE.pt (torch.save({'net': state_dict with DataParallel's
# "module." prefix, 'epoch': 7})), CASE.yaml (the flowood experiment describing the same model),
# CASE_x.npy (inputs k/255), CASE_u.npy (noise in [0, 1)) and CASE_loglik.npy (log p(x) in nats,
# float64, model in eval mode). legacy.pt is one case in PyTorch's pre-1.6 file format.

import argparse
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

LOGIT_C = 0.9


# ---- containers with the authors' naming ------------------------------------------------------

class Identity(nn.Module):
    def forward(self, x):
        return x, 0.0


class Pair(nn.Module):
    """A layer acting on x of (x, factored-out latents); `module2` is the identity."""

    def __init__(self, layer):
        super().__init__()
        self.module1 = layer
        self.module2 = Identity()


class Group(nn.Sequential):
    """A passThrough group: layers applied to x in turn."""

    def __init__(self, *layers):
        super().__init__(*[Pair(layer) for layer in layers])

    def run(self, x):
        logdet = 0.0
        for pair in self:
            x, ld = pair.module1(x)
            logdet = logdet + ld
        return x, logdet


class Marker(nn.Module):
    """addZslot, the logit layer's group and FlatJoin: no parameters; `kind` says what it does."""

    def __init__(self, kind, arg=None):
        super().__init__()
        self.kind = kind
        self.arg = arg


# ---- layers --------------------------------------------------------------------------------------

def squeeze2(x):
    n, c, h, w = x.shape
    x = x.reshape(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
    return x.reshape(n, 4 * c, h // 2, w // 2)


class Squeeze(nn.Module):
    def forward(self, x):
        return squeeze2(x), 0.0


def logit_layer(x, u):
    """Dequantise (x = k/255, u in [0,1)) and logit; the log-det includes D log(255/256)."""
    y = (1 - LOGIT_C) / 2 + LOGIT_C * (255.0 * x + u) / 256.0
    ell = torch.log(y) - torch.log1p(-y)
    d = x[0].numel()
    logdet = (math.log(LOGIT_C) - torch.log(y) - torch.log1p(-y)).flatten(1).sum(1) + d * math.log(255.0 / 256.0)
    return ell, logdet


class WNConv(nn.Module):
    def __init__(self, cin, cout, k, pad, bias=True):
        super().__init__()
        self.conv = nn.utils.weight_norm(nn.Conv2d(cin, cout, k, padding=pad, bias=bias))

    def forward(self, x):
        return self.conv(x)


class PlainConv(nn.Module):
    def __init__(self, cin, cout, k):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, padding=(k - 1) // 2)

    def forward(self, x):
        return self.conv(x)


class ResBlock(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.in_norm = nn.BatchNorm2d(m)
        self.in_conv = WNConv(m, m, 3, 1, bias=False)
        self.out_norm = nn.BatchNorm2d(m)
        self.out_conv = WNConv(m, m, 3, 1, bias=True)

    def forward(self, h):
        r = self.in_conv(F.relu(self.in_norm(h)))
        return h + self.out_conv(F.relu(self.out_norm(r)))


class ResNetST(nn.Module):
    """Spec 2.5 (bottleneck=None) and 2.6 (bottleneck=(l, width))."""

    def __init__(self, cin, m, blocks, double, bottleneck=None):
        super().__init__()
        self.double = double
        self.in_conv = WNConv(2 * cin, m, 3, 1)
        self.blocks = nn.ModuleList([ResBlock(m) for _ in range(blocks)])
        self.out_conv = WNConv(m, 2 * cin, 1, 0)
        self.m = m
        if bottleneck is None:
            self.in_skip = WNConv(m, m, 1, 0)
            self.skips = nn.ModuleList([WNConv(m, m, 1, 0) for _ in range(blocks)])
        else:
            l, width = bottleneck
            self.width = width
            self.bottleneck = nn.Sequential(nn.Linear(m * width * width, l), nn.Linear(l, m * width * width))
        self.in_norm = nn.BatchNorm2d(cin)
        self.out_norm = nn.BatchNorm2d(m)

    def forward(self, x):
        h = self.in_norm(x)
        if self.double:
            h = 2 * h
        h = self.in_conv(F.relu(torch.cat([h, -h], 1)))
        if hasattr(self, "bottleneck"):
            for i, block in enumerate(self.blocks):
                h = block(h)
                if i == len(self.blocks) // 2 - 1:
                    h = self.bottleneck(h.flatten(1)).view(-1, self.m, self.width, self.width)
        else:
            skip = self.in_skip(h)
            for block, conv in zip(self.blocks, self.skips):
                h = block(h)
                skip = skip + conv(h)
            h = skip
        return self.out_conv(F.relu(self.out_norm(h)))


class HighwayLayer(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.conv_h = PlainConv(m, m, 3)
        self.conv_t = PlainConv(m, m, 3)

    def forward(self, h):
        g = torch.sigmoid(self.conv_t(h))
        return self.conv_h(h) * g + h * (1 - g)


class HighwayST(nn.Module):
    def __init__(self, cin, m, blocks):
        super().__init__()
        self.in_conv = PlainConv(cin, m, 3)
        self.layers = nn.Sequential(*[HighwayLayer(m) for _ in range(blocks)])
        self.out_conv = PlainConv(m, 2 * cin, 1)

    def forward(self, x):
        return self.out_conv(self.layers(self.in_conv(x)))


class ConvNetST(nn.Module):
    """Spec 2.7 `convnet`: weight-normalised convolutions with no nonlinearity."""

    def __init__(self, cin, m, blocks):
        super().__init__()
        self.layers = nn.Sequential(WNConv(cin, m, 3, 1), *[WNConv(m, m, 3, 1) for _ in range(blocks)],
                                    WNConv(m, 2 * cin, 1, 0))

    def forward(self, x):
        return self.layers(x)


def glow_convnet_st(cin, m):
    """Spec 2.7 `glow_convnet`: conv3x3, ReLU, conv1x1, ReLU, conv3x3 (an nn.Sequential itself)."""
    return nn.Sequential(PlainConv(cin, m, 3), nn.ReLU(), PlainConv(m, m, 1), nn.ReLU(), PlainConv(m, 2 * cin, 3))


class Rescale(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c, 1, 1))

    def forward(self, x):
        return self.weight * x


def mask_of(kind, arg, c, h, w, dtype):
    """(b_in, b_out) for a spatial mask: b_in = 1 where the st-network sees x; s, t act where b_out = 1."""
    b = torch.zeros(1, c, h, w, dtype=dtype)
    if kind == "checkerboard":
        i = torch.arange(h).view(h, 1)
        j = torch.arange(w).view(1, w)
        b[:] = ((i + j) % 2).to(dtype)
        if arg:
            b = 1 - b
        return b, 1 - b
    if kind == "horizontal":
        if arg:
            b[:, :, h // 2:, :] = 1
        else:
            b[:, :, :h // 2, :] = 1
        return b, 1 - b
    if kind == "quadrant":
        def quad(q):
            m = torch.zeros(1, c, h, w, dtype=dtype)
            rows = slice(0, h // 2) if q in (0, 1) else slice(h // 2, h)
            cols = slice(0, w // 2) if q in (0, 3) else slice(w // 2, w)
            m[:, :, rows, cols] = 1
            return m
        return quad(arg[0]), quad(arg[1])
    raise ValueError(kind)


class Coupling(nn.Module):
    """Spec 2.2: y_change = (x_change + t) * exp(s), s = rescale(tanh(s_raw)) restricted by the mask."""

    def __init__(self, c, kind, arg, st):
        super().__init__()
        self.kind, self.arg = kind, arg
        seen = c // 2 if kind == "channel" else c
        self.st_net = st(seen)
        self.rescale = nn.utils.weight_norm(Rescale(seen))

    def forward(self, x):
        if self.kind == "channel":
            a, b = x.chunk(2, 1)
            x_id, x_change = (a, b) if self.arg else (b, a)
            st = self.st_net(x_id)
            s_raw, t = st.chunk(2, 1)
            s = self.rescale(torch.tanh(s_raw))
            y_change = (x_change + t) * torch.exp(s)
            y = torch.cat([x_id, y_change], 1) if self.arg else torch.cat([y_change, x_id], 1)
            return y, s.flatten(1).sum(1)
        b_in, b_out = mask_of(self.kind, self.arg, *x.shape[1:], x.dtype)
        st = self.st_net(x * b_in)
        s_raw, t = st.chunk(2, 1)
        s = self.rescale(torch.tanh(s_raw)) * b_out
        t = t * b_out
        y = x * b_in + (x * (1 - b_in) + t) * torch.exp(s) * (1 - b_in)
        return y, s.flatten(1).sum(1)


class ActNorm(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.logs = nn.Parameter(torch.zeros(1, c, 1, 1))

    def forward(self, x):
        return (x + self.bias) * torch.exp(self.logs), self.logs.sum() * x.shape[2] * x.shape[3] * torch.ones(
            x.shape[0], dtype=x.dtype)


class InvConv(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.weight = nn.Parameter(torch.linalg.qr(torch.randn(c, c))[0])

    def forward(self, x):
        c = x.shape[1]
        ld = torch.slogdet(self.weight)[1] * x.shape[2] * x.shape[3]
        return F.conv2d(x, self.weight.view(c, c, 1, 1)), ld * torch.ones(x.shape[0], dtype=x.dtype)


# ---- models ----------------------------------------------------------------------------------------

class Flow(nn.Module):
    def __init__(self, items):
        super().__init__()
        self.body = nn.Sequential(*items)

    def log_prob(self, x, u):
        """log p(x) in nats (spec 1.3) with dequantisation noise u."""
        h, logdet = logit_layer(x, u)
        zs = []
        for item in self.body:
            if isinstance(item, Group):
                h, ld = item.run(h)
                logdet = logdet + ld
            elif item.kind == "keep":
                zs.append(h[:, item.arg:].flatten(1))
                h = h[:, :item.arg]
        z = torch.cat(zs + [h.flatten(1)], 1)
        d = z.shape[1]
        prior = -0.5 * (z ** 2).sum(1) - 0.5 * d * math.log(2 * math.pi)
        return prior + logdet - d * math.log(256.0)


def resnet_st(m, blocks, double):
    return lambda c: ResNetST(c, m, blocks, double)


def realnvp(c, h, m, blocks, scales):
    items = [Marker("addZslot"), Marker("logits")]
    for scale in range(scales):
        st = resnet_st(m, blocks, True)
        items.append(Group(*[Coupling(c, "checkerboard", r, st) for r in (False, True, False)]))
        if scale == scales - 1:
            items.append(Group(Coupling(c, "checkerboard", True, st)))
        else:
            items.append(Group(Squeeze()))
            m *= 2
            items.append(Group(*[Coupling(4 * c, "channel", r, resnet_st(m, blocks, False)) for r in (False, True, False)]))
            items.append(Marker("keep", 2 * c))
            c *= 2
            h //= 2
    items.append(Marker("flatjoin"))
    return Flow(items)


def coupling_stack(c, m, blocks, masks, bottleneck=None, convnet=False):
    items = [Marker("addZslot"), Marker("logits")]
    for kind, arg in masks:
        double = kind == "checkerboard"
        if convnet:
            st = lambda seen: ConvNetST(seen, m, blocks)
        elif bottleneck:
            st = lambda seen, double=double: ResNetST(seen, m, blocks, double, bottleneck)
        else:
            st = resnet_st(m, blocks, double)
        items.append(Group(Coupling(c, kind, arg, st)))
    items.append(Marker("flatjoin"))
    return Flow(items)


def glow(c, m, blocks, scales, steps, st=None):
    st = st or (lambda seen: HighwayST(seen, m, blocks))
    items = [Marker("addZslot"), Marker("logits")]
    for scale in range(scales):
        c *= 4
        items.append(Group(Squeeze()))
        for _ in range(steps):
            items.append(Group(ActNorm(c), InvConv(c), Coupling(c, "channel", False, st)))
        if scale < scales - 1:
            items.append(Marker("keep", c // 2))
            c //= 2
    items.append(Marker("flatjoin"))
    return Flow(items)


# ---- fixture ---------------------------------------------------------------------------------------

CASES = {
    # name: (builder, flowood model YAML, input shape)
    "realnvp": (lambda: realnvp(3, 8, 4, 1, 2),
                "  flow: realnvp\n  in_shape: [3, 8, 8]\n  num_scales: 2\n  num_blocks: 1\n  mid_channels: 4\n",
                (3, 8, 8)),
    "cycle": (lambda: coupling_stack(1, 4, 2, [("quadrant", (0, 1)), ("quadrant", (1, 2)), ("quadrant", (2, 3)),
                                               ("quadrant", (3, 0)), ("horizontal", False), ("horizontal", True)]),
              "  flow: coupling\n  in_shape: [1, 8, 8]\n  masks: [cycle, horizontal x2]\n  num_blocks: 2\n"
              "  mid_channels: 4\n", (1, 8, 8)),
    "bottleneck": (lambda: coupling_stack(1, 4, 2, [("checkerboard", False), ("checkerboard", True)], bottleneck=(3, 8)),
                   "  flow: coupling\n  in_shape: [1, 8, 8]\n  masks: [checkerboard x2]\n  num_blocks: 2\n"
                   "  mid_channels: 4\n  st_net: resnet-bottleneck\n  bottleneck_dim: 3\n", (1, 8, 8)),
    "glow": (lambda: glow(3, 8, 1, 2, 2),
             "  flow: glow\n  in_shape: [3, 8, 8]\n  num_scales: 2\n  num_steps: 2\n  num_blocks: 1\n"
             "  mid_channels: 8\n  st_net: highway\n", (3, 8, 8)),
    "convnet": (lambda: coupling_stack(1, 4, 1, [("checkerboard", False), ("checkerboard", True)], convnet=True),
                "  flow: coupling\n  in_shape: [1, 8, 8]\n  masks: [checkerboard x2]\n  num_blocks: 1\n"
                "  mid_channels: 4\n  st_net: convnet\n", (1, 8, 8)),
    "glowconv": (lambda: glow(1, 6, 1, 2, 1, st=lambda seen: glow_convnet_st(seen, 6)),
                 "  flow: glow\n  in_shape: [1, 8, 8]\n  num_scales: 2\n  num_steps: 1\n  mid_channels: 6\n"
                 "  st_net: glow-convnet\n", (1, 8, 8)),
}


def randomise(model, gen):
    """Every parameter and batch-norm statistic away from its initial value, so that a name mapped
    to the wrong tensor changes the likelihood (zero-initialised convolutions would hide it)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("weight_g"):
                p.copy_(0.2 * torch.rand(p.shape, generator=gen) + 0.4)
            elif name.endswith("logs"):
                p.copy_(0.2 * torch.rand(p.shape, generator=gen) - 0.1)
            elif name.endswith("module1.weight"):  # a 1x1 convolution: a rotation, slightly perturbed
                q = torch.linalg.qr(torch.randn(p.shape, generator=gen))[0]
                p.copy_(q + 0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.2 * torch.randn(b.shape, generator=gen))
            elif name.endswith("running_var"):
                b.copy_(0.5 + torch.rand(b.shape, generator=gen))
            elif name.endswith("num_batches_tracked"):
                b.fill_(123)


def write_fixture(out):
    os.makedirs(out, exist_ok=True)
    for k, (name, (build, yaml, shape)) in enumerate(CASES.items()):
        torch.manual_seed(k)
        gen = torch.Generator().manual_seed(100 + k)
        model = build()
        randomise(model, gen)
        model.eval()
        state = {"module." + key: value for key, value in model.state_dict().items()}
        torch.save({"net": state, "epoch": 7}, os.path.join(out, name + ".pt"))
        if name == "realnvp":
            torch.save({"net": state, "epoch": 7}, os.path.join(out, "legacy.pt"), _use_new_zipfile_serialization=False)
        x = torch.randint(0, 256, (4,) + shape, generator=gen).double() / 255.0
        u = torch.rand((4,) + shape, generator=gen, dtype=torch.float64)
        with torch.no_grad():
            loglik = model.double().log_prob(x, u)
        np.save(os.path.join(out, name + "_x.npy"), x.numpy())
        np.save(os.path.join(out, name + "_u.npy"), u.numpy())
        np.save(os.path.join(out, name + "_loglik.npy"), loglik.numpy())
        with open(os.path.join(out, name + ".yaml"), "w") as f:
            f.write("# written by scripts/flows_ood_reference.py: the flowood experiment of %s.pt\n" % name)
            f.write("name: flows_ood_%s\nseed: 0\ndevice: cpu\nmodel:\n%s" % (name, yaml))
        print(name, "params", sum(p.numel() for p in model.parameters()), "loglik", loglik.tolist())


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fixture", help="write the golden-test fixture into this directory")
    args = parser.parse_args()
    if args.fixture:
        write_fixture(args.fixture)
    else:
        parser.error("nothing to do (--fixture DIR)")


if __name__ == "__main__":
    main()
