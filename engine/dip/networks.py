"""Deep-image-prior networks for BUDDIP (EDIP, ADIP) and UnDIP (skip-net).

torch is imported lazily: :func:`build_edip`, :func:`build_adip` and :func:`build_skipnet`
define the module classes on first call, so importing this file never needs torch.

Design notes (deviations from the authors' code, chosen so that any image size and any
number of endmembers work):

* All convolutions keep the spatial size (stride 1, "same" padding) in EDIP and ADIP; the
  skip-net downsamples with stride 2 and upsamples back to the exact size of the skip
  branch, so odd sizes (Samson is 95 x 95) are fine.
* EDIP and ADIP are *residual* priors: the last layer is zero-initialised and its output is
  added to the guidance (``logit(E~)`` for EDIP, ``log(A~)`` for ADIP), so training starts
  exactly at the guidance (SiVM/VCA endmembers, FCLS abundances) and moves away only as far
  as the loss asks.
* EDIP convolves along the spectral axis (endmembers as channels): the prior it imposes is
  spectral smoothness, and it works for any number of endmembers.

The authors' networks (``build_unet_edip``, ``build_unet_adip``; used by the ``paper`` and
``authors_code`` variants of BUDDIP) follow their repository (ChaoEdisonZhouUCL/BUDDIP-ICASSP-2022):
conv + BatchNorm + LeakyReLU(0.1) blocks, widths 256 (stride 2) -> 512 -> 1024, x2 upsampling,
512 -> 256 -> out, a skip from the input (EDIP: added; ADIP: concatenated), a 1 x 1 conv +
BatchNorm + sigmoid (EDIP, over the endmember axis with bands as channels) or softmax (ADIP).
The one change: the upsampling goes back to the exact input size (nearest neighbour, as their
``nn.Upsample(scale_factor=2)`` does for even sizes), so odd sizes and odd endmember counts work
where theirs crash.
"""

from __future__ import annotations

from functools import lru_cache

from ..core.torch_support import import_torch

_EPS = 1e-4


@lru_cache(maxsize=None)
def _classes():
    torch = import_torch()
    nn = torch.nn
    F = torch.nn.functional

    class EDIP(nn.Module):
        """Endmember DIP: ``E = scale * sigmoid(logit(E~ / scale) + g(logit(E~ / scale)))``.

        Input and output are (L, p). ``g`` is a 1-D conv net over bands with a zero-initialised
        last layer, so the first output equals the guidance ``E~``.
        """

        def __init__(self, n_endmembers: int, hidden: int = 64, n_layers: int = 3, kernel_size: int = 5):
            super().__init__()
            pad = kernel_size // 2
            layers = []
            c_in = n_endmembers
            for _ in range(n_layers - 1):
                layers += [
                    nn.Conv1d(c_in, hidden, kernel_size, padding=pad, padding_mode="replicate"),
                    nn.LeakyReLU(0.1),
                ]
                c_in = hidden
            self.body = nn.Sequential(*layers)
            self.head = nn.Conv1d(c_in + n_endmembers, n_endmembers, kernel_size, padding=pad, padding_mode="replicate")
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

        def forward(self, guide_logit):  # (L, p) -> (L, p) in (0, 1)
            x = guide_logit.t().unsqueeze(0)  # (1, p, L)
            h = torch.cat([self.body(x), x], dim=1)
            return torch.sigmoid(x + self.head(h)).squeeze(0).t()

    class ADIP(nn.Module):
        """Abundance DIP: ``A = softmax(log A~ + g(log A~))`` over endmembers.

        Input (p, H, W) log-abundances; output (p, H, W) abundances that are >= 0 and sum to one.
        ``g`` is a 2-D conv net with a concatenated skip and a zero-initialised last layer.
        """

        def __init__(self, n_endmembers: int, hidden: int = 32, n_layers: int = 3):
            super().__init__()
            layers = []
            c_in = n_endmembers
            for _ in range(n_layers - 1):
                layers += [nn.Conv2d(c_in, hidden, 3, padding=1, padding_mode="replicate"), nn.LeakyReLU(0.1)]
                c_in = hidden
            self.body = nn.Sequential(*layers)
            self.head = nn.Conv2d(c_in + n_endmembers, n_endmembers, 3, padding=1, padding_mode="replicate")
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

        def forward(self, guide_log):  # (p, H, W)
            x = guide_log.unsqueeze(0)
            u = torch.softmax(x, dim=1) - 1.0 / x.shape[1]  # well-scaled features: centred abundances
            h = torch.cat([self.body(u), u], dim=1)
            return torch.softmax(x + self.head(h), dim=1).squeeze(0)

    def _block(c_in, c_out, stride=1):
        return [
            nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, padding_mode="replicate"),
            nn.BatchNorm2d(c_out),
            nn.LeakyReLU(0.1),
        ]

    class SkipNet(nn.Module):
        """Ulyanov-style encoder-decoder with skip connections; softmax output over endmembers.

        Works for any H, W: each level downsamples with stride 2 and upsamples (bilinear) back to
        the exact size of its skip branch.
        """

        def __init__(self, c_in: int, c_out: int, channels: int = 32, skip_channels: int = 4, depth: int = 3):
            super().__init__()
            self.down = nn.ModuleList()
            self.skip = nn.ModuleList()
            self.up = nn.ModuleList()
            c = c_in
            for _ in range(depth):
                self.skip.append(
                    nn.Sequential(nn.Conv2d(c, skip_channels, 1), nn.BatchNorm2d(skip_channels), nn.LeakyReLU(0.1))
                )
                self.down.append(nn.Sequential(*_block(c, channels, 2), *_block(channels, channels)))
                c = channels
            for level in range(depth):
                c_up = channels  # what comes from below
                self.up.append(
                    nn.Sequential(
                        nn.BatchNorm2d(c_up + skip_channels),
                        *_block(c_up + skip_channels, channels),
                        nn.Conv2d(channels, channels, 1),
                        nn.BatchNorm2d(channels),
                        nn.LeakyReLU(0.1),
                    )
                )
            self.out = nn.Conv2d(channels, c_out, 1)

        def forward(self, z):  # (c_in, H, W) -> (c_out, H, W) softmax over channels
            x = z.unsqueeze(0)
            skips = []
            for skip, down in zip(self.skip, self.down):
                skips.append(skip(x))
                x = down(x)
            for s, up in zip(reversed(skips), self.up):
                x = F.interpolate(x, size=s.shape[-2:], mode="bilinear", align_corners=False)
                x = up(torch.cat([x, s], dim=1))
            return torch.softmax(self.out(x), dim=1).squeeze(0)

    def _unet_block(conv, bn, c_in, c_out, stride=1):
        return [conv(c_in, c_out, 3, stride=stride, padding=1), bn(c_out), nn.LeakyReLU(0.1)]

    class UNetPrior(nn.Module):
        """The authors' EDIP (``dims=1``) / ADIP (``dims=2``): down path, upsampling, up path, skip, head.

        Input (C, *size) -> output (C_out, *size): sigmoid (EDIP) or softmax over channels (ADIP).
        """

        def __init__(
            self,
            c_in: int,
            c_out: int,
            dims: int,
            widths=(256, 512, 1024),
            head: str = "sigmoid",
            concat_skip: bool = False,
        ):
            super().__init__()
            conv = nn.Conv1d if dims == 1 else nn.Conv2d
            bn = nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d
            w = [int(v) for v in widths]
            layers, c = [], c_in
            for i, width in enumerate(w):
                layers += _unet_block(conv, bn, c, width, stride=2 if i == 0 else 1)
                c = width
            self.down = nn.Sequential(*layers)
            layers = []
            for width in [*reversed(w[:-1]), c_out]:
                layers += _unet_block(conv, bn, c, width)
                c = width
            self.up = nn.Sequential(*layers)
            self.concat_skip = concat_skip
            self.head = nn.Sequential(conv(c_in * 2 if concat_skip else c_in, c_out, 1), bn(c_out))
            self.kind = head

        def forward(self, x):  # (C, *size), no batch axis
            x = x.unsqueeze(0)
            o = self.down(x)
            o = F.interpolate(o, size=x.shape[2:], mode="nearest")
            o = self.up(o)
            o = torch.cat([x, o], dim=1) if self.concat_skip else x + o
            o = self.head(o)
            o = torch.sigmoid(o) if self.kind == "sigmoid" else torch.softmax(o, dim=1)
            return o.squeeze(0)

    return EDIP, ADIP, SkipNet, UNetPrior


def build_edip(n_endmembers: int, **kwargs):
    """Return a new EDIP module (see the class docstring)."""
    return _classes()[0](n_endmembers, **kwargs)


def build_adip(n_endmembers: int, **kwargs):
    """Return a new ADIP module."""
    return _classes()[1](n_endmembers, **kwargs)


def build_unet_edip(n_bands: int, widths=(256, 512, 1024)):
    """The authors' EDIP: input and output (L, p) (bands as channels, convolved along endmembers)."""
    return _classes()[3](n_bands, n_bands, 1, widths=widths, head="sigmoid", concat_skip=False)


def build_unet_adip(n_endmembers: int, widths=(256, 512, 1024)):
    """The authors' ADIP: input and output (p, H, W), softmax over endmembers."""
    return _classes()[3](n_endmembers, n_endmembers, 2, widths=widths, head="softmax", concat_skip=True)


def build_skipnet(c_in: int, c_out: int, **kwargs):
    """Return a new skip-net (UnDIP's abundance prior)."""
    return _classes()[2](c_in, c_out, **kwargs)
