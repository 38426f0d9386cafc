"""Deep-image-prior networks: BUDDIP's residual EDIP and ADIP, the authors' U-Nets, UnDIP's skip-net.

Imports torch (the estimators import it inside ``fit``). Every network takes any image size and number of
endmembers.
"""

from __future__ import annotations

from ..core.torch_support import import_torch

torch = import_torch()
nn = torch.nn
F = torch.nn.functional


def _residual_body(conv, c_in: int, hidden: int, n_layers: int, **conv_kw):
    layers = []
    for _ in range(n_layers - 1):
        layers += [conv(c_in, hidden, padding_mode="replicate", **conv_kw), nn.LeakyReLU(0.1)]
        c_in = hidden
    return nn.Sequential(*layers), c_in


def _zero_head(conv, c_in: int, c_out: int, **conv_kw):
    head = conv(c_in, c_out, padding_mode="replicate", **conv_kw)
    nn.init.zeros_(head.weight)
    nn.init.zeros_(head.bias)
    return head


class EDIP(nn.Module):
    """Endmember prior ``E = sigmoid(x + g(x))`` for ``x = logit(E~ / scale)`` (L, p); ``g``, a 1-D conv net over
    the bands, has a zero-initialised last layer, so the first output is the guidance."""

    def __init__(self, n_endmembers: int, hidden: int = 64, n_layers: int = 3, kernel_size: int = 5):
        super().__init__()
        kw = dict(kernel_size=kernel_size, padding=kernel_size // 2)
        self.body, c = _residual_body(nn.Conv1d, n_endmembers, hidden, n_layers, **kw)
        self.head = _zero_head(nn.Conv1d, c + n_endmembers, n_endmembers, **kw)

    def forward(self, guide_logit):  # (L, p) -> (L, p) in (0, 1)
        x = guide_logit.t().unsqueeze(0)  # (1, p, L)
        h = torch.cat([self.body(x), x], dim=1)
        return torch.sigmoid(x + self.head(h)).squeeze(0).t()


class ADIP(nn.Module):
    """Abundance prior ``A = softmax(x + g(x))`` over endmembers for log-abundances ``x`` (p, H, W); ``g``, a 2-D
    conv net, has a zero-initialised last layer."""

    def __init__(self, n_endmembers: int, hidden: int = 32, n_layers: int = 3):
        super().__init__()
        kw = dict(kernel_size=3, padding=1)
        self.body, c = _residual_body(nn.Conv2d, n_endmembers, hidden, n_layers, **kw)
        self.head = _zero_head(nn.Conv2d, c + n_endmembers, n_endmembers, **kw)

    def forward(self, guide_log):  # (p, H, W)
        x = guide_log.unsqueeze(0)
        u = torch.softmax(x, dim=1) - 1.0 / x.shape[1]  # well-scaled features: centred abundances
        h = torch.cat([self.body(u), u], dim=1)
        return torch.softmax(x + self.head(h), dim=1).squeeze(0)


def _block(c_in: int, c_out: int, stride: int = 1, conv=nn.Conv2d, bn=nn.BatchNorm2d, **conv_kw) -> list:
    return [conv(c_in, c_out, 3, stride=stride, padding=1, **conv_kw), bn(c_out), nn.LeakyReLU(0.1)]


class SkipNet(nn.Module):
    """Ulyanov-style encoder-decoder with skip connections, softmax over the ``c_out`` output channels; each
    level upsamples back to the exact size of its skip branch."""

    def __init__(self, c_in: int, c_out: int, channels: int = 32, skip_channels: int = 4, depth: int = 3):
        super().__init__()
        replicate = dict(padding_mode="replicate")
        self.skip, self.down, self.up = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        c = c_in
        for _ in range(depth):
            self.skip.append(
                nn.Sequential(nn.Conv2d(c, skip_channels, 1), nn.BatchNorm2d(skip_channels), nn.LeakyReLU(0.1))
            )
            self.down.append(
                nn.Sequential(*_block(c, channels, 2, **replicate), *_block(channels, channels, **replicate))
            )
            c = channels
        for _ in range(depth):
            self.up.append(
                nn.Sequential(
                    nn.BatchNorm2d(channels + skip_channels),
                    *_block(channels + skip_channels, channels, **replicate),
                    nn.Conv2d(channels, channels, 1),
                    nn.BatchNorm2d(channels),
                    nn.LeakyReLU(0.1),
                )
            )
        self.out = nn.Conv2d(channels, c_out, 1)

    def forward(self, z):  # (c_in, H, W) -> (c_out, H, W)
        x = z.unsqueeze(0)
        skips = []
        for skip, down in zip(self.skip, self.down):
            skips.append(skip(x))
            x = down(x)
        for s, up in zip(reversed(skips), self.up):
            x = F.interpolate(x, size=s.shape[-2:], mode="bilinear", align_corners=False)
            x = up(torch.cat([x, s], dim=1))
        return torch.softmax(self.out(x), dim=1).squeeze(0)


class UNetPrior(nn.Module):
    """The authors' EDIP (``dims=1``) / ADIP (``dims=2``) (ChaoEdisonZhouUCL/BUDDIP-ICASSP-2022).

    Conv + BatchNorm + LeakyReLU(0.1) blocks of ``widths`` (the first with stride 2), upsampling back to the
    exact input size (nearest, as theirs for even sizes), the reversed widths to ``c_out``, a skip from the
    input (added, or concatenated), then a 1 x 1 conv + BatchNorm and a sigmoid or a softmax over channels.
    Input (C, *size) -> output (c_out, *size).
    """

    def __init__(self, c_in: int, c_out: int, dims: int, widths=(256, 512, 1024), head="sigmoid", concat_skip=False):
        super().__init__()
        kind = dict(conv=nn.Conv1d, bn=nn.BatchNorm1d) if dims == 1 else {}
        w = [int(v) for v in widths]
        layers, c = [], c_in
        for i, width in enumerate(w):
            layers += _block(c, width, 2 if i == 0 else 1, **kind)
            c = width
        self.down = nn.Sequential(*layers)
        layers = []
        for width in [*reversed(w[:-1]), c_out]:
            layers += _block(c, width, **kind)
            c = width
        self.up = nn.Sequential(*layers)
        self.concat_skip = concat_skip
        conv, bn = (nn.Conv1d, nn.BatchNorm1d) if dims == 1 else (nn.Conv2d, nn.BatchNorm2d)
        self.head = nn.Sequential(conv(c_in * 2 if concat_skip else c_in, c_out, 1), bn(c_out))
        self.kind = head

    def forward(self, x):  # (C, *size), no batch axis
        x = x.unsqueeze(0)
        o = self.up(F.interpolate(self.down(x), size=x.shape[2:], mode="nearest"))
        o = self.head(torch.cat([x, o], dim=1) if self.concat_skip else x + o)
        o = torch.sigmoid(o) if self.kind == "sigmoid" else torch.softmax(o, dim=1)
        return o.squeeze(0)


def build_unet_edip(n_bands: int, widths=(256, 512, 1024)):
    """The authors' EDIP: input and output (L, p) (bands as channels, convolved along endmembers)."""
    return UNetPrior(n_bands, n_bands, 1, widths=widths, head="sigmoid", concat_skip=False)


def build_unet_adip(n_endmembers: int, widths=(256, 512, 1024)):
    """The authors' ADIP: input and output (p, H, W), softmax over endmembers."""
    return UNetPrior(n_endmembers, n_endmembers, 2, widths=widths, head="softmax", concat_skip=True)
