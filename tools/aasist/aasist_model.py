"""AASIST in PyTorch, written from the paper and the published hyper-parameters (build time only).

Jung et al., "AASIST: Audio Anti-Spoofing using Integrated Spectro-Temporal Graph Attention Networks",
ICASSP 2022 (arXiv 2110.01200). The published ``.conf`` files give the sizes (``filts``, ``gat_dims``,
``pool_ratios``, ``temperatures``); the module and parameter names follow the published ``state_dict`` so
that ``load_state_dict(strict=True)`` checks every key and every shape.

The flow (paper, Fig. 1):

1. a fixed (not learnt) sinc band-pass filter bank on the raw waveform, 70 mel-spaced bands, then
   |.|, 3x3 max-pooling, batch norm and SELU: a 2-D (band x time) map;
2. a RawNet2-style residual encoder (six blocks, each ending in a 1x3 max-pool over time);
3. two graphs from the encoder output: spectral nodes (max |.| over time, plus a learnt positional
   embedding) and temporal nodes (max |.| over bands), each through a graph attention layer and a
   top-k graph pooling;
4. two parallel branches of two heterogeneous stacking graph attention layers (HS-GAL) over the joined
   spectral + temporal graph, each with a learnt "master" node that attends over all nodes;
5. the max graph operation (element-wise max of the two branches) and a readout: max |.| and mean of the
   temporal and spectral nodes plus the master node, then one linear layer to two logits.

Only inference matters here, so dropout and the training-time frequency masking are left out (they are
identities in ``eval()`` mode and have no parameters).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class AasistConfig:
    """The ``model_config`` block of a published ``.conf`` file."""

    nb_samp: int
    first_conv: int
    filts: tuple[Any, ...]
    gat_dims: tuple[int, int]
    pool_ratios: tuple[float, float, float, float]
    temperatures: tuple[float, float, float, float]

    @classmethod
    def from_conf(cls, path: Path) -> AasistConfig:
        cfg = json.loads(path.read_text())["model_config"]
        if cfg.get("architecture") != "AASIST":
            raise ValueError(f"{path}: not an AASIST configuration")
        return cls(
            nb_samp=int(cfg["nb_samp"]),
            first_conv=int(cfg["first_conv"]),
            filts=tuple(cfg["filts"]),
            gat_dims=tuple(cfg["gat_dims"]),  # type: ignore[arg-type]
            pool_ratios=tuple(cfg["pool_ratios"]),  # type: ignore[arg-type]
            temperatures=tuple(cfg["temperatures"]),  # type: ignore[arg-type]
        )


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + hz / 700.0)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


def sinc_filter_bank(n_filters: int, kernel_size: int, sample_rate: int = SAMPLE_RATE) -> Tensor:
    """``n_filters`` Hamming-windowed ideal band-pass filters whose edges are equally spaced on the mel
    scale between 0 Hz and Nyquist (the band edges are read off a 512-point FFT grid, so they run from
    the grid's lowest to its highest frequency). An even kernel size is made odd so filters are centred.

    Each filter is the difference of two ideal low-pass sinc kernels, ``2 f / fs * sinc(2 f n / fs)``.
    """
    if kernel_size % 2 == 0:
        kernel_size += 1
    grid = (sample_rate // 2) * np.linspace(0.0, 1.0, 512 // 2 + 1)
    mel_grid = _hz_to_mel(grid)
    edges = _mel_to_hz(np.linspace(mel_grid.min(), mel_grid.max(), n_filters + 1))
    half = (kernel_size - 1) / 2
    taps = torch.arange(-half, half + 1).numpy()  # float32 taps, as a torch.arange of halves gives
    window = np.hamming(kernel_size)
    bank = np.zeros((n_filters, kernel_size), dtype=np.float32)
    for i in range(n_filters):
        low, high = edges[i], edges[i + 1]
        ideal = (2 * high / sample_rate) * np.sinc(2 * high * taps / sample_rate) - (
            2 * low / sample_rate
        ) * np.sinc(2 * low * taps / sample_rate)
        bank[i] = (window.astype(np.float32) * ideal.astype(np.float32)).astype(np.float32)
    return torch.from_numpy(bank)


class SincFrontEnd(nn.Module):
    """Fixed sinc filter bank (a buffer that is *not* saved: the published state_dict has no entry)."""

    def __init__(self, n_filters: int, kernel_size: int) -> None:
        super().__init__()
        self.register_buffer(
            "filters", sinc_filter_bank(n_filters, kernel_size).unsqueeze(1), persistent=False
        )

    def forward(self, wave: Tensor) -> Tensor:  # (B, T) -> (B, n_filters, T - K + 1)
        return F.conv1d(wave.unsqueeze(1), self.filters)


class ResidualBlock(nn.Module):
    """Two 2x3 convolutions with a skip connection, then 1x3 max-pooling over time.

    ``bn1`` exists in every non-first block of the published weights, but its affine parameters are
    exactly 1 and 0 (never updated by the optimiser) while its running statistics were updated: the
    reference forward pass computes it and discards the result, and the first convolution reads the
    block input directly. We reproduce that: ``bn1`` is kept for strict loading and not used.
    """

    def __init__(self, channels: tuple[int, int], first: bool = False) -> None:
        super().__init__()
        c_in, c_out = channels
        if not first:
            self.bn1 = nn.BatchNorm2d(c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, kernel_size=(2, 3), padding=(1, 1))
        self.bn2 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, kernel_size=(2, 3), padding=(0, 1))
        self.conv_downsample = (
            nn.Conv2d(c_in, c_out, kernel_size=(1, 3), padding=(0, 1)) if c_in != c_out else None
        )

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv2(F.selu(self.bn2(self.conv1(x))))
        skip = self.conv_downsample(x) if self.conv_downsample is not None else x
        return F.max_pool2d(out + skip, (1, 3))


def _pairwise_products(x: Tensor) -> Tensor:
    """(B, N, D) -> (B, N, N, D) with entry [i, j] = x_i * x_j (the paper's attention input)."""
    return x.unsqueeze(2) * x.unsqueeze(1)


def _batch_norm_nodes(bn: nn.BatchNorm1d, x: Tensor) -> Tensor:
    b, n, d = x.shape
    return bn(x.reshape(b * n, d)).reshape(b, n, d)


class GraphAttention(nn.Module):
    """Graph attention over a fully connected graph (paper, Sec. 2.2).

    Attention logits are ``w . tanh(W (x_i * x_j))`` divided by a temperature, softmax-normalised over
    neighbours; the output adds an attended and a plain projection, then batch norm and SELU.
    """

    def __init__(self, in_dim: int, out_dim: int, temperature: float) -> None:
        super().__init__()
        self.att_proj = nn.Linear(in_dim, out_dim)
        self.att_weight = nn.Parameter(torch.empty(out_dim, 1))
        self.proj_with_att = nn.Linear(in_dim, out_dim)
        self.proj_without_att = nn.Linear(in_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim)
        self.temperature = temperature

    def forward(self, x: Tensor) -> Tensor:
        logits = torch.tanh(self.att_proj(_pairwise_products(x))) @ self.att_weight  # (B, N, N, 1)
        att = torch.softmax(logits.squeeze(-1) / self.temperature, dim=-1)
        out = self.proj_with_att(att @ x) + self.proj_without_att(x)
        return F.selu(_batch_norm_nodes(self.bn, out))


class HeteroGraphAttention(nn.Module):
    """The heterogeneous graph attention layer of HS-GAL (paper, Sec. 3.2).

    Temporal and spectral nodes are first projected into a shared space (one projection per node type)
    and joined; attention logits use one weight vector per pair of node types (temporal-temporal,
    spectral-spectral, and a shared one for cross-type edges). A master node attends over every node
    with its own projections and is updated without batch norm or activation.
    """

    def __init__(self, in_dim: int, out_dim: int, temperature: float) -> None:
        super().__init__()
        self.proj_type1 = nn.Linear(in_dim, in_dim)
        self.proj_type2 = nn.Linear(in_dim, in_dim)
        self.att_proj = nn.Linear(in_dim, out_dim)
        self.att_projM = nn.Linear(in_dim, out_dim)
        self.att_weight11 = nn.Parameter(torch.empty(out_dim, 1))
        self.att_weight22 = nn.Parameter(torch.empty(out_dim, 1))
        self.att_weight12 = nn.Parameter(torch.empty(out_dim, 1))
        self.att_weightM = nn.Parameter(torch.empty(out_dim, 1))
        self.proj_with_att = nn.Linear(in_dim, out_dim)
        self.proj_without_att = nn.Linear(in_dim, out_dim)
        self.proj_with_attM = nn.Linear(in_dim, out_dim)
        self.proj_without_attM = nn.Linear(in_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim)
        self.temperature = temperature

    def _edge_logits(self, x: Tensor, n1: int) -> Tensor:
        hidden = torch.tanh(self.att_proj(_pairwise_products(x)))  # (B, N, N, out)
        w11, w22, w12 = (w.squeeze(-1) for w in (self.att_weight11, self.att_weight22, self.att_weight12))
        n = x.shape[1]
        is1 = torch.arange(n, device=x.device) < n1
        same1 = (is1.unsqueeze(1) & is1.unsqueeze(0)).unsqueeze(-1)
        same2 = (~is1.unsqueeze(1) & ~is1.unsqueeze(0)).unsqueeze(-1)
        weight = torch.where(same1, w11, torch.where(same2, w22, w12))  # (N, N, out)
        return (hidden * weight).sum(-1)  # (B, N, N)

    def forward(self, x1: Tensor, x2: Tensor, master: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        n1 = x1.shape[1]
        x = torch.cat([self.proj_type1(x1), self.proj_type2(x2)], dim=1)
        master_logits = torch.tanh(self.att_projM(x * master)) @ self.att_weightM  # (B, N, 1)
        master_att = torch.softmax(master_logits.squeeze(-1) / self.temperature, dim=-1).unsqueeze(1)
        new_master = self.proj_with_attM(master_att @ x) + self.proj_without_attM(master)
        att = torch.softmax(self._edge_logits(x, n1) / self.temperature, dim=-1)
        out = self.proj_with_att(att @ x) + self.proj_without_att(x)
        out = F.selu(_batch_norm_nodes(self.bn, out))
        return out[:, :n1], out[:, n1:], new_master


class GraphPool(nn.Module):
    """Top-k graph pooling (Gao & Ji, Graph U-Nets): keep the ``ratio`` best-scoring nodes, each scaled by
    its sigmoid score so the scorer is trained."""

    def __init__(self, ratio: float, dim: int) -> None:
        super().__init__()
        self.ratio = ratio
        self.proj = nn.Linear(dim, 1)

    def forward(self, h: Tensor) -> Tensor:
        scores = torch.sigmoid(self.proj(h))  # (B, N, 1)
        keep = max(int(h.shape[1] * self.ratio), 1)
        _, idx = torch.topk(scores, keep, dim=1)
        return torch.gather(h * scores, 1, idx.expand(-1, -1, h.shape[2]))


class Aasist(nn.Module):
    """The whole model; ``forward`` maps (B, 64600) float waveforms in [-1, 1] to (B, 2) logits."""

    def __init__(self, cfg: AasistConfig, *, hetero_pool_ratio: float | None = None) -> None:
        """``hetero_pool_ratio`` overrides the keep ratio of the four pools after the first HS-GAL of each
        branch (default: the configuration's third ``pool_ratios`` entry); only for the ablation that
        checks this reading of the configuration, see ``window_logits.py``."""
        super().__init__()
        filts = cfg.filts
        d0, d1 = cfg.gat_dims
        t = cfg.temperatures
        r = cfg.pool_ratios
        rh = r[2] if hetero_pool_ratio is None else hetero_pool_ratio
        enc_out = int(filts[-1][-1])
        self.front = SincFrontEnd(int(filts[0]), cfg.first_conv)
        self.first_bn = nn.BatchNorm2d(1)
        blocks = [
            ResidualBlock(tuple(filts[1]), first=True),
            ResidualBlock(tuple(filts[2])),
            ResidualBlock(tuple(filts[3])),
            ResidualBlock(tuple(filts[4])),
            ResidualBlock(tuple(filts[4])),
            ResidualBlock(tuple(filts[4])),
        ]
        self.encoder = nn.Sequential(*(nn.Sequential(b) for b in blocks))
        n_bands = int(filts[0]) // 3
        self.pos_S = nn.Parameter(torch.zeros(1, n_bands, enc_out))
        self.master1 = nn.Parameter(torch.zeros(1, 1, d0))
        self.master2 = nn.Parameter(torch.zeros(1, 1, d0))
        self.GAT_layer_S = GraphAttention(enc_out, d0, t[0])
        self.GAT_layer_T = GraphAttention(enc_out, d0, t[1])
        self.HtrgGAT_layer_ST11 = HeteroGraphAttention(d0, d1, t[2])
        self.HtrgGAT_layer_ST12 = HeteroGraphAttention(d1, d1, t[2])
        self.HtrgGAT_layer_ST21 = HeteroGraphAttention(d0, d1, t[2])
        self.HtrgGAT_layer_ST22 = HeteroGraphAttention(d1, d1, t[2])
        self.pool_S = GraphPool(r[0], d0)
        self.pool_T = GraphPool(r[1], d0)
        self.pool_hS1 = GraphPool(rh, d1)
        self.pool_hT1 = GraphPool(rh, d1)
        self.pool_hS2 = GraphPool(rh, d1)
        self.pool_hT2 = GraphPool(rh, d1)
        self.out_layer = nn.Linear(5 * d1, 2)

    def _branch(
        self,
        first: nn.Module,
        second: nn.Module,
        pools: tuple[nn.Module, nn.Module],
        master: Tensor,
        nodes_t: Tensor,
        nodes_s: Tensor,
    ) -> tuple[Tensor, Tensor, Tensor]:
        t1, s1, m1 = first(nodes_t, nodes_s, master)
        t1, s1 = pools[1](t1), pools[0](s1)
        t2, s2, m2 = second(t1, s1, m1)
        return t1 + t2, s1 + s2, m1 + m2

    def forward(self, wave: Tensor) -> Tensor:
        x = F.max_pool2d(self.front(wave).abs().unsqueeze(1), (3, 3))
        x = F.selu(self.first_bn(x))
        e = self.encoder(x)  # (B, C, bands, frames)
        nodes_s = e.abs().amax(dim=3).transpose(1, 2) + self.pos_S
        nodes_t = e.abs().amax(dim=2).transpose(1, 2)
        out_s = self.pool_S(self.GAT_layer_S(nodes_s))
        out_t = self.pool_T(self.GAT_layer_T(nodes_t))
        batch = wave.shape[0]
        t1, s1, m1 = self._branch(
            self.HtrgGAT_layer_ST11,
            self.HtrgGAT_layer_ST12,
            (self.pool_hS1, self.pool_hT1),
            self.master1.expand(batch, -1, -1),
            out_t,
            out_s,
        )
        t2, s2, m2 = self._branch(
            self.HtrgGAT_layer_ST21,
            self.HtrgGAT_layer_ST22,
            (self.pool_hS2, self.pool_hT2),
            self.master2.expand(batch, -1, -1),
            out_t,
            out_s,
        )
        out_t, out_s, master = torch.maximum(t1, t2), torch.maximum(s1, s2), torch.maximum(m1, m2)
        hidden = torch.cat(
            [
                out_t.abs().amax(dim=1),
                out_t.mean(dim=1),
                out_s.abs().amax(dim=1),
                out_s.mean(dim=1),
                master.squeeze(1),
            ],
            dim=1,
        )
        return self.out_layer(hidden)


def load(weights: Path, conf: Path, *, hetero_pool_ratio: float | None = None) -> Aasist:
    """Build from ``conf`` and load ``weights`` strictly: every key and shape must match the architecture."""
    model = Aasist(AasistConfig.from_conf(conf), hetero_pool_ratio=hetero_pool_ratio)
    state = torch.load(weights, map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval()


__all__ = ["SAMPLE_RATE", "Aasist", "AasistConfig", "load", "sinc_filter_bank"]
