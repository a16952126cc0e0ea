"""Generator families: which generator names count as "the same generator" when one is held out.

Why families and not raw names: the development set names generators at the granularity its sources used
("SDXL-Turbo", "SDXL + IP-Adapter-Plus", "SDXL 1.0 base+refiner"). Holding out one of those while training
on its siblings would measure recognition of a known model, not generalisation to an unseen one, so the
leave-one-generator-out protocol holds out whole families. The rules are ordered (the first pattern that
matches names the family) and are data: a name no rule matches is its own family.
"""

from __future__ import annotations

import re

__all__ = ["FAMILY_RULES", "family_of"]

FAMILY_RULES: tuple[tuple[str, str], ...] = (
    (r"facechain", "FaceChain portraits (SD1.5 fine-tunes)"),
    (r"sdxl", "SDXL (base, Turbo, LCM, IP-Adapter, ControlNet)"),
    (r"\bsd3", "SD3 / SD3.5"),
    (r"stable cascade", "Stable Cascade"),
    (r"hunyuan", "Hunyuan-DiT"),
    (r"\bsd1|stable diffusion v?1|stable diffusion \(stability|anything-v3", "Stable Diffusion 1.x"),
    (r"\bsd2|stable diffusion 2|wd-illusion|unclip", "Stable Diffusion 2.x"),
    (r"dall-e mini", "DALL-E mini"),
    (r"glid-3", "GLID-3-XL"),
    (r"latent diffusion", "Latent Diffusion (LAION-400M)"),
    (r"majesty", "Majesty Diffusion"),
    (r"pixray|vqgan", "VQGAN+CLIP (pixray)"),
    (r"text-to-video|\bsvd\b", "text-to-video models (frame 0)"),
    (r"omnigen", "OmniGen"),
    (r"kandinsky|lumina|auraflow|cosmos|z-image|unknown", "other recent models (one or two images each)"),
)
_COMPILED = tuple((re.compile(pattern, re.IGNORECASE), family) for pattern, family in FAMILY_RULES)


def family_of(generator: str) -> str:
    """The family a generator name belongs to (itself when no rule names one)."""
    for pattern, family in _COMPILED:
        if pattern.search(generator):
            return family
    return generator
