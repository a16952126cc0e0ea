"""Parameter blocks that image generators write into the files they produce.

* AUTOMATIC1111 / Forge / SD.Next: a ``parameters`` PNG chunk (or EXIF ``UserComment`` in JPEG/WebP) holding
  the prompt, an optional ``Negative prompt:`` line and a last ``Steps: 20, Sampler: ..., Seed: ...`` line.
* ComfyUI: ``prompt`` (the executed node graph) and ``workflow`` (the editor graph) JSON chunks.
* InvokeAI: ``invokeai_metadata`` JSON (older releases: ``sd-metadata`` JSON, ``Dream`` text).
* NovelAI: ``Software: NovelAI`` with a ``Comment`` JSON of generation settings; other tools (Fooocus,
  SwarmUI) write similar JSON, recognised by its generation keys.

Every parser is total: malformed or hostile input (deep JSON nesting, giant lines) yields ``None``, never an
exception, and what it returns is bounded and JSON-serialisable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from civicshield.analyzers.meta.bounds import Bounds, clip
from civicshield.analyzers.meta.fields import Family, Field, RawMetadata, Role
from civicshield.analyzers.meta.names import generators_in

__all__ = [
    "Trace",
    "load_json",
    "parse_a1111",
    "parse_comfy_prompt",
    "parse_comfy_workflow",
    "payload_traces",
    "pick_generation",
]

A1111 = "Stable Diffusion web UI (AUTOMATIC1111 / Forge / SD.Next)"
_STEPS_LINE = re.compile(r"\s{0,8}Steps: {0,4}\d")
_KEY_VALUE = re.compile(r'\s{0,8}([A-Za-z][\w ()/.+-]{0,40}?): {0,4}("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')
_MAX_PARAMS_LINE = 16_384
_A1111_KEYS: dict[str, tuple[str, type]] = {
    "Steps": ("steps", int),
    "Sampler": ("sampler", str),
    "Schedule type": ("scheduler", str),
    "CFG scale": ("cfg_scale", float),
    "Seed": ("seed", int),
    "Size": ("size", str),
    "Model": ("model", str),
    "Model hash": ("model_hash", str),
    "Version": ("version", str),
}
_GENERATION_KEYS = {
    "prompt": "prompt",
    "positive_prompt": "prompt",
    "negative_prompt": "negative_prompt",
    "uc": "negative_prompt",
    "steps": "steps",
    "seed": "seed",
    "noise_seed": "seed",
    "sampler": "sampler",
    "sampler_name": "sampler",
    "scheduler": "scheduler",
    "noise_schedule": "scheduler",
    "cfg_scale": "cfg_scale",
    "scale": "cfg_scale",
    "guidance_scale": "cfg_scale",
    "model": "model",
    "base_model": "model",
    "model_name": "model",
    "model_weights": "model",
    "width": "width",
    "height": "height",
    "version": "version",
    "app_version": "version",
    "app_id": "app",
    "generation_mode": "mode",
}
_CORE_KEYS = {"prompt", "steps", "seed", "sampler", "cfg_scale"}
_COMFY_MODEL_INPUTS = {"ckpt_name", "unet_name", "model_name", "lora_name", "vae_name", "clip_name"}
_COMFY_TEXT_INPUTS = {"text", "text_g", "text_l", "prompt"}


@dataclass(frozen=True)
class Trace:
    """One generator trace: which generator, where it was found, and the parameters it left (bounded)."""

    generator: str
    where: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    value: str | None = None  # the tool-field text, for traces found by name

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"generator": self.generator, "field": self.where}
        if self.value is not None:
            out["value"] = self.value
        if self.parameters:
            out["parameters"] = dict(self.parameters)
        return out


def load_json(text: str, bounds: Bounds) -> Any:
    """Parsed JSON, or ``None`` when not JSON, too large, or nested deeper than the interpreter allows."""
    if len(text) > bounds.max_json_chars or not text.lstrip().startswith(("{", "[")):
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def parse_a1111(text: str, bounds: Bounds) -> dict[str, Any] | None:
    """Prompt, negative prompt and the ``Steps:`` line's settings, or ``None`` without such a line."""
    lines = text.split("\n")
    idx = next((i for i in range(len(lines) - 1, -1, -1) if _STEPS_LINE.match(lines[i])), None)
    if idx is None:
        return None
    prompt: list[str] = []
    negative: list[str] = []
    target = prompt
    for line in lines[:idx]:
        if target is prompt and line.startswith("Negative prompt:"):
            target, line = negative, line[len("Negative prompt:") :]
        target.append(line)
    out: dict[str, Any] = {"prompt": clip("\n".join(prompt).strip(), bounds.max_prompt_chars)}
    if negative:
        out["negative_prompt"] = clip("\n".join(negative).strip(), bounds.max_prompt_chars)
    other: dict[str, str] = {}
    for match in _KEY_VALUE.finditer(lines[idx][:_MAX_PARAMS_LINE]):
        key, value = match.group(1).strip(), match.group(2).strip().strip('"')
        if key in _A1111_KEYS:
            name, kind = _A1111_KEYS[key]
            out[name] = _convert(value, kind, bounds)
        elif key and value and len(other) < bounds.max_keys:
            other[key] = clip(value, bounds.max_value_chars)
    if other:
        out["other"] = other
    return out


def _convert(value: str, kind: type, bounds: Bounds) -> Any:
    try:
        return (
            kind(value) if kind in (int, float) and len(value) < 40 else clip(value, bounds.max_value_chars)
        )
    except ValueError:
        return clip(value, bounds.max_value_chars)


def parse_comfy_prompt(obj: Any, bounds: Bounds) -> dict[str, Any] | None:
    """Summary of a ComfyUI API graph: ``{node_id: {"class_type": ..., "inputs": {...}}}``."""
    if not isinstance(obj, dict):
        return None
    nodes = [n for n in obj.values() if isinstance(n, dict) and isinstance(n.get("class_type"), str)]
    if not nodes:
        return None
    found: dict[str, list[Any]] = {"models": [], "seeds": [], "steps": [], "samplers": [], "prompts": []}
    for node in nodes:
        inputs = node.get("inputs")
        for key, value in inputs.items() if isinstance(inputs, dict) else ():
            _collect_comfy_input(found, key, value, bounds)
    out: dict[str, Any] = {
        "node_count": len(nodes),
        "node_types": sorted({n["class_type"] for n in nodes})[: bounds.max_list_items],
    }
    out.update({k: _unique(v, bounds.max_list_items) for k, v in found.items() if v})
    if "prompts" in out:
        out["prompts"] = [clip(p, bounds.max_prompt_chars) for p in out["prompts"][:4]]
    return out


def _collect_comfy_input(found: dict[str, list[Any]], key: str, value: Any, bounds: Bounds) -> None:
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if key in _COMFY_MODEL_INPUTS and isinstance(value, str):
        found["models"].append(clip(value, bounds.max_value_chars))
    elif key in ("seed", "noise_seed") and is_int:
        found["seeds"].append(value)
    elif key == "steps" and is_int:
        found["steps"].append(value)
    elif key in ("sampler_name", "scheduler") and isinstance(value, str):
        found["samplers"].append(clip(value, bounds.max_value_chars))
    elif key in _COMFY_TEXT_INPUTS and isinstance(value, str) and value.strip():
        found["prompts"].append(value.strip())


def _unique(values: list[Any], limit: int) -> list[Any]:
    return list(dict.fromkeys(values))[:limit]


def parse_comfy_workflow(obj: Any, bounds: Bounds) -> dict[str, Any] | None:
    """Summary of a ComfyUI editor graph: ``{"nodes": [{"type": ...}, ...], ...}``."""
    nodes = obj.get("nodes") if isinstance(obj, dict) else None
    if not isinstance(nodes, list):
        return None
    types = [n["type"] for n in nodes if isinstance(n, dict) and isinstance(n.get("type"), str)]
    if not types:
        return None
    return {"node_count": len(nodes), "node_types": sorted(set(types))[: bounds.max_list_items]}


def pick_generation(obj: Mapping[str, Any], bounds: Bounds) -> dict[str, Any]:
    """Generation settings from a JSON object, under our names (``uc`` → ``negative_prompt``...)."""
    inner = obj.get("image") if isinstance(obj.get("image"), dict) else None  # InvokeAI sd-metadata
    inner = inner or (obj.get("sui_image_params") if isinstance(obj.get("sui_image_params"), dict) else None)
    out: dict[str, Any] = {}
    for source in (obj, inner or {}):
        for key, value in list(source.items())[: bounds.max_fields]:
            name = _GENERATION_KEYS.get(str(key).lower())
            scalar = _scalar(value, bounds, prompt=name in ("prompt", "negative_prompt"))
            if name and scalar is not None:
                out.setdefault(name, scalar)
    return out


def _scalar(value: Any, bounds: Bounds, *, prompt: bool) -> Any:
    if isinstance(value, dict):  # {"name": "sdxl"}-style model references
        value = value.get("name") or value.get("model_name")
    if isinstance(value, list) and value and isinstance(value[0], dict):  # [{"prompt": ..., "weight": ...}]
        value = value[0].get("prompt")
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str) and value.strip():
        return clip(value.strip(), bounds.max_prompt_chars if prompt else bounds.max_value_chars)
    return None


def payload_traces(raw: RawMetadata, bounds: Bounds) -> list[Trace]:
    tools = " ".join(f.value for f in raw.with_role(Role.TOOL)).lower()
    traces = [t for f in raw.with_role(Role.PAYLOAD) if (t := _trace(f, tools, bounds)) is not None]
    return traces[: bounds.max_list_items]


def _trace(f: Field, tools: str, bounds: Bounds) -> Trace | None:
    a1111 = parse_a1111(f.value, bounds)
    if a1111 is not None:
        return Trace(A1111, f.where, a1111)
    obj = load_json(f.value, bounds)
    name = f.name.lower()
    if f.family is Family.TEXT:
        special = _text_chunk_trace(f, name, obj, bounds)
        if special is not None:
            return special
    if isinstance(obj, dict):
        settings = pick_generation(obj, bounds)
        if len(_CORE_KEYS & settings.keys()) >= 2:
            return Trace(_json_generator(obj, tools, name), f.where, settings)
    return None


def _text_chunk_trace(f: Field, name: str, obj: Any, bounds: Bounds) -> Trace | None:
    if name == "prompt" and (comfy := parse_comfy_prompt(obj, bounds)) is not None:
        return Trace("ComfyUI", f.where, comfy)
    if name == "workflow" and (graph := parse_comfy_workflow(obj, bounds)) is not None:
        return Trace("ComfyUI", f.where, graph)
    if name in ("invokeai_metadata", "sd-metadata") and isinstance(obj, dict):
        return Trace("InvokeAI", f.where, pick_generation(obj, bounds))
    if name == "dream" or (name in ("parameters", "prompt") and obj is None):
        label = "InvokeAI" if name == "dream" else (A1111 if name == "parameters" else "unknown generator")
        return Trace(label, f.where, {"prompt": clip(f.value, bounds.max_prompt_chars)})
    return None


def _json_generator(obj: Mapping[str, Any], tools: str, name: str) -> str:
    if "novelai" in tools and name == "comment":
        return "NovelAI"
    if "sui_image_params" in obj:
        return "SwarmUI"
    names = generators_in(json.dumps({k: v for k, v in obj.items() if isinstance(v, str)})[:4096])
    return names[0] if names else "unknown generator (JSON generation settings)"
