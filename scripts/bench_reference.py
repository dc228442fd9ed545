#!/usr/bin/env python3
# bench_reference.py -- speed benchmark of the *reference* RealNVP (Kirichenko et al. 2020).
#
# This is a from-the-spec PyTorch model, written line by line from
# /work/shared/spec/reference-spec.md (sections 1.2, 1.3, 2.1-2.5, 3, 4.1, 5.2).  It is used
# ONLY to measure the speed of the reference implementation on the same machine as flowood:
# the authors' repository (PolinaKirichenko/flows_ood) is not available offline, so this file
# rebuilds the same computation in the authors' style (weight_norm-wrapped nn.Conv2d whose
# weight is recomputed by the hook on every forward, nn.BatchNorm2d, multiplicative
# checkerboard masks, chunk()-based channel-wise masks, view/permute squeeze, factor-out of
# the trailing half of the channels, iLogits preprocessing, MultivariateNormal prior).
# It is not part of flowood and is not used to produce any result other than timings.
#
# Run with Debian's PyTorch (NOT the pyenv python3 on PATH, which has no torch):
#   /usr/bin/python3 scripts/bench_reference.py --config fashion --steps 5 --warmup 2
#   /usr/bin/python3 scripts/bench_reference.py --config small --precision bf16 --json out.json
#   /usr/bin/python3 scripts/bench_reference.py --config fashion --channels-last
#
# Synthetic FashionMNIST-shaped inputs (1x28x28, values k/255, seeded).  A train step is
# zero_grad -> forward -> loss = -mean log p(x) -> backward -> per-group grad clip (100) ->
# Adam step (two groups: weight-norm gains with weight decay 5e-5, the rest without, as in
# spec section 5.2).  A scoring batch is a forward under model.eval() + torch.no_grad().

import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import weight_norm

CONFIGS = {
    # name: (in_channels, H, W, mid_channels, num_blocks, num_scales, expected parameter count)
    "fashion": (1, 28, 28, 64, 6, 2, 14707336),
    "small": (1, 28, 28, 32, 2, 2, 1271048),
}

CHECKERBOARD = 0
CHANNEL_WISE = 1


# --------------------------------------------------------------------------------------------
# Building blocks (spec 2.4, 2.5, 2.3)
# --------------------------------------------------------------------------------------------
def wn_conv2d(in_ch, out_ch, kernel_size, padding, bias):
    """Weight-normalised conv (dim 0): weight = g * v / ||v||, recomputed by the forward hook."""
    return weight_norm(nn.Conv2d(in_ch, out_ch, kernel_size, padding=padding, bias=bias))


class ResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.in_norm = nn.BatchNorm2d(channels)
        self.in_conv = wn_conv2d(channels, channels, 3, 1, bias=False)
        self.out_norm = nn.BatchNorm2d(channels)
        self.out_conv = wn_conv2d(channels, channels, 3, 1, bias=True)

    def forward(self, x):
        r = x
        h = F.relu(self.in_norm(x))
        h = self.in_conv(h)
        h = F.relu(self.out_norm(h))
        h = self.out_conv(h)
        return h + r


class ResNetST(nn.Module):
    """The RealNVP st-network (st_type='resnet', batch norm on, skip on)."""

    def __init__(self, in_ch, mid_ch, out_ch, num_blocks, double_after_norm):
        super().__init__()
        self.double_after_norm = double_after_norm
        self.in_norm = nn.BatchNorm2d(in_ch)
        self.in_conv = wn_conv2d(2 * in_ch, mid_ch, 3, 1, bias=True)
        self.in_skip = wn_conv2d(mid_ch, mid_ch, 1, 0, bias=True)
        self.blocks = nn.ModuleList([ResidualBlock(mid_ch) for _ in range(num_blocks)])
        self.skips = nn.ModuleList(
            [wn_conv2d(mid_ch, mid_ch, 1, 0, bias=True) for _ in range(num_blocks)])
        self.out_norm = nn.BatchNorm2d(mid_ch)
        self.out_conv = wn_conv2d(mid_ch, out_ch, 1, 0, bias=True)

    def forward(self, x):
        h = self.in_norm(x)
        if self.double_after_norm:
            h = h * 2.0
        h = torch.cat((h, -h), dim=1)
        h = F.relu(h)
        h = self.in_conv(h)
        skip = self.in_skip(h)
        for block, skip_conv in zip(self.blocks, self.skips):
            h = block(h)
            skip = skip + skip_conv(h)
        h = F.relu(self.out_norm(skip))
        return self.out_conv(h)


class Rescale(nn.Module):
    """Per-channel scale w (shape [C,1,1], init 1); wrapped in weight_norm by the caller."""

    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels, 1, 1))

    def forward(self, x):
        return self.weight * x


# --------------------------------------------------------------------------------------------
# Masks (spec 3) and the affine coupling layer (spec 2.2)
# --------------------------------------------------------------------------------------------
def checkerboard(h, w, reverse, dtype, device):
    """b[i,j] = (i+j) mod 2, shape [1,1,H,W]; reverse flips it. b=1 is the identity part."""
    i = torch.arange(h, device=device).view(h, 1)
    j = torch.arange(w, device=device).view(1, w)
    b = ((i + j) % 2).to(dtype)
    if reverse:
        b = 1.0 - b
    return b.view(1, 1, h, w)


class Coupling(nn.Module):
    def __init__(self, in_ch, mid_ch, num_blocks, mask_type, reverse):
        super().__init__()
        self.mask_type = mask_type
        self.reverse = reverse
        st_ch = in_ch if mask_type == CHECKERBOARD else in_ch // 2
        self.st_net = ResNetST(st_ch, mid_ch, 2 * st_ch, num_blocks,
                               double_after_norm=(mask_type == CHECKERBOARD))
        self.rescale = weight_norm(Rescale(st_ch))

    def forward(self, x):
        if self.mask_type == CHECKERBOARD:
            b = checkerboard(x.size(2), x.size(3), self.reverse, x.dtype, x.device)
            x_id = x * b
            x_change = x * (1.0 - b)
        else:
            first, second = x.chunk(2, dim=1)
            # reverse=False: first half changed, second half is the identity part.
            x_id, x_change = (first, second) if self.reverse else (second, first)

        st = self.st_net(x_id)
        s, t = st.chunk(2, dim=1)
        s = self.rescale(torch.tanh(s))

        if self.mask_type == CHECKERBOARD:
            s = s * (1.0 - b)
            t = t * (1.0 - b)
        y_change = (x_change + t) * torch.exp(s)
        logdet = s.flatten(1).sum(-1)

        if self.mask_type == CHECKERBOARD:
            y = x_id * b + y_change * (1.0 - b)
        elif self.reverse:
            y = torch.cat((x_id, y_change), dim=1)
        else:
            y = torch.cat((y_change, x_id), dim=1)
        return y, logdet


# --------------------------------------------------------------------------------------------
# iLogits (spec 1.2), squeeze (spec 2.1) and the multi-scale RealNVP (spec 4.1)
# --------------------------------------------------------------------------------------------
class ILogits(nn.Module):
    def __init__(self, cnstr=0.9):
        super().__init__()
        self.cnstr = cnstr
        self.fixed_noise = None  # only set by the start-up checks (same noise for fp32/fp64)

    def forward(self, x):
        c = self.cnstr
        u = torch.rand_like(x)  # fresh dequantisation noise on every call, train and eval
        if self.fixed_noise is not None:
            u = self.fixed_noise.to(x.dtype)
        z0 = (255.0 * x + u) / 256.0
        y = (1.0 - c) / 2.0 + c * z0
        l = torch.log(y) - torch.log(1.0 - y)
        spl = F.softplus(torch.tensor(math.log(1.0 - c) - math.log(c), dtype=x.dtype))
        d = x[0].numel()
        logdet = (F.softplus(l) + F.softplus(-l) - spl).flatten(1).sum(-1) \
            + d * math.log(255.0 / 256.0)
        return l, logdet


def squeeze(x):
    n, c, h, w = x.shape
    # reshape == view for contiguous NCHW; reshape also accepts channels-last tensors.
    x = x.reshape(n, c, h // 2, 2, w // 2, 2)
    x = x.permute(0, 1, 3, 5, 2, 4)
    return x.reshape(n, 4 * c, h // 2, w // 2)


class RealNVP(nn.Module):
    def __init__(self, in_ch, mid_ch, num_blocks, num_scales):
        super().__init__()
        self.logits = ILogits()
        self.stages = nn.ModuleList()
        c, m = in_ch, mid_ch
        for scale in range(num_scales):
            last = scale == num_scales - 1
            checker = nn.ModuleList(
                [Coupling(c, m, num_blocks, CHECKERBOARD, r) for r in (False, True, False)])
            if last:
                checker.append(Coupling(c, m, num_blocks, CHECKERBOARD, True))
                self.stages.append(nn.ModuleDict({"checker": checker}))
            else:
                m = 2 * m
                channel = nn.ModuleList(
                    [Coupling(4 * c, m, num_blocks, CHANNEL_WISE, r) for r in (False, True, False)])
                self.stages.append(nn.ModuleDict({"checker": checker, "channel": channel}))
                c = 2 * c

    def forward(self, x):
        """Returns (z [N, D] in FlatJoin order, summed log-det [N])."""
        x, sldj = self.logits(x)
        zs = []
        for stage in self.stages:
            for layer in stage["checker"]:
                x, ld = layer(x)
                sldj = sldj + ld
            if "channel" in stage:
                x = squeeze(x)
                for layer in stage["channel"]:
                    x, ld = layer(x)
                    sldj = sldj + ld
                k = x.size(1) // 2
                zs.append(x[:, k:])  # keepChannels(k): factor out channels [k, C)
                x = x[:, :k]
        zs.append(x)
        z = torch.cat([t.reshape(t.size(0), -1) for t in zs], dim=1)
        return z, sldj


def log_likelihood(z, sldj, prior):
    """log p(x) = log N(z; 0, I) + sldj - D log 256 (spec 1.3), per example, in nats."""
    d = z.size(1)
    return prior.log_prob(z) + sldj - d * math.log(256.0)


def make_prior(d, dtype):
    return torch.distributions.MultivariateNormal(
        torch.zeros(d, dtype=dtype), torch.eye(d, dtype=dtype))


def bits_per_dim(logp, d):
    return (-logp / (d * math.log(2.0))).mean().item()


# --------------------------------------------------------------------------------------------
# Benchmark
# --------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", choices=sorted(CONFIGS), default="fashion")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--score-batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--score-steps", type=int, default=None, help="timed scoring batches (default: --steps)")
    ap.add_argument("--score-warmup", type=int, default=None, help="scoring warm-up batches (default: --warmup)")
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--json", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-checks", action="store_true",
                    help="skip the float64 / bits-per-dim sanity checks at start-up")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    in_ch, h, w, mid, blocks, scales, expected = CONFIGS[args.config]
    d = in_ch * h * w

    def clone(src):
        # deepcopy fails on weight_norm modules (their `weight` is a non-leaf tensor), so copy
        # through the state dict (weight_g, weight_v, biases, BN affine and running stats).
        m = RealNVP(in_ch, mid, blocks, scales)
        m.load_state_dict(src.state_dict())
        return m

    model = RealNVP(in_ch, mid, blocks, scales)
    params = sum(p.numel() for p in model.parameters())
    ok = params == expected
    print(f"config {args.config}: num_blocks {blocks}, mid {mid}, scales {scales}, "
          f"input {in_ch}x{h}x{w}")
    print(f"parameters: {params:,} (reference {expected:,}: {'OK' if ok else 'MISMATCH'})")

    gen = torch.Generator().manual_seed(args.seed + 1)

    def fake_batch(n):
        return torch.randint(0, 256, (n, in_ch, h, w), generator=gen).float() / 255.0

    if not args.skip_checks:
        # float64 forward on a copy (train mode, so BN uses batch statistics as at training).
        m64 = clone(model).double().train()
        x = fake_batch(8).double()
        with torch.no_grad():
            z, sldj = m64(x)
            logp64 = log_likelihood(z, sldj, make_prior(d, torch.float64))
        finite = bool(torch.isfinite(logp64).all())
        bpd64 = bits_per_dim(logp64, d)
        # same batch and the same dequantisation noise in float32 and float64
        m32 = clone(model).train()
        noise = torch.rand(x.shape, generator=gen, dtype=torch.float64)
        m64.logits.fixed_noise = noise
        m32.logits.fixed_noise = noise
        with torch.no_grad():
            z, sldj = m64(x)
            logp64b = log_likelihood(z, sldj, make_prior(d, torch.float64))
            z32, sldj32 = m32(x.float())
            logp32 = log_likelihood(z32, sldj32, make_prior(d, torch.float32))
        rel = ((logp32.double() - logp64b).abs() / logp64b.abs()).max().item()
        # The synthetic pixels are i.i.d. uniform over 0..255, whose dequantised entropy is
        # exactly 8 bits/dim, so any model's bits/dim (a cross-entropy) is >= 8 on average
        # (+0.0056 from the D log(255/256) term); a random init sits a few bits above that.
        plausible = 7.9 < bpd64 < 16.0
        print(f"check: float64 forward finite={finite}, bits/dim at init {bpd64:.3f} "
              f"({'plausible' if plausible else 'IMPLAUSIBLE'}), "
              f"float32 vs float64 log p max rel diff {rel:.2e}")
        ok = ok and finite and plausible
        del m64, m32

    mf = torch.channels_last if args.channels_last else torch.contiguous_format
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    prior = make_prior(d, torch.float32)

    def autocast():
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16")

    # Two parameter groups as in the reference: weight decay only on weight-norm gains.
    gains = [p for n, p in model.named_parameters() if n.endswith("weight_g")]
    others = [p for n, p in model.named_parameters() if not n.endswith("weight_g")]
    opt = torch.optim.Adam([{"params": gains, "weight_decay": 5e-5},
                            {"params": others, "weight_decay": 0.0}], lr=1e-3)

    n_total = args.warmup + args.steps
    train_batches = [fake_batch(args.batch_size).contiguous(memory_format=mf)
                     for _ in range(n_total)]
    score_warmup = args.warmup if args.score_warmup is None else args.score_warmup
    score_steps = args.steps if args.score_steps is None else args.score_steps
    score_batches = [fake_batch(args.score_batch_size).contiguous(memory_format=mf)
                     for _ in range(score_warmup + score_steps)]

    # ---- training steps
    model.train()
    train_times, train_bpd = [], []
    for i, x in enumerate(train_batches):
        t0 = time.perf_counter()
        opt.zero_grad()
        with autocast():
            z, sldj = model(x)
        logp = log_likelihood(z.float(), sldj.float(), prior)
        loss = -logp.mean()
        loss.backward()
        for group in opt.param_groups:
            torch.nn.utils.clip_grad_norm_(group["params"], max_norm=100.0)
        opt.step()
        dt = time.perf_counter() - t0
        if i >= args.warmup:
            train_times.append(dt)
        train_bpd.append(loss.item() / (d * math.log(2.0)))

    # ---- scoring batches
    model.eval()
    score_times = []
    with torch.no_grad():
        for i, x in enumerate(score_batches):
            t0 = time.perf_counter()
            with autocast():
                z, sldj = model(x)
            logp = log_likelihood(z.float(), sldj.float(), prior)
            dt = time.perf_counter() - t0
            if i >= score_warmup:
                score_times.append(dt)
    score_finite = bool(torch.isfinite(logp).all())

    tr_med = statistics.median(train_times)
    sc_med = statistics.median(score_times)
    train_ips = args.batch_size / tr_med
    score_ips = args.score_batch_size / sc_med
    print(f"train: {len(train_times)} steps after {args.warmup} warm-up, step s median "
          f"{tr_med:.3f} (min {min(train_times):.3f}, max {max(train_times):.3f}), "
          f"bits/dim first {train_bpd[0]:.3f} last {train_bpd[-1]:.3f}")
    print(f"score: {len(score_times)} batches after {score_warmup} warm-up, batch s median "
          f"{sc_med:.3f} (min {min(score_times):.3f}, max {max(score_times):.3f}), "
          f"finite={score_finite}")
    print(f"SUMMARY reference-pytorch config={args.config} params={params} "
          f"precision={args.precision} channels_last={args.channels_last} "
          f"threads={args.threads} batch={args.batch_size} "
          f"train {train_ips:.1f} img/s, score {score_ips:.1f} img/s "
          f"(score batch {args.score_batch_size})")

    if args.json:
        with open(args.json, "w") as f:
            json.dump({
                "config": args.config,
                "params": params,
                "batch_size": args.batch_size,
                "score_batch_size": args.score_batch_size,
                "threads": args.threads,
                "precision": args.precision,
                "train_images_per_s": train_ips,
                "score_images_per_s": score_ips,
                "train_step_s_median": tr_med,
                "score_batch_s_median": sc_med,
            }, f, indent=2)
            f.write("\n")

    return 0 if (ok and score_finite) else 1


if __name__ == "__main__":
    sys.exit(main())
