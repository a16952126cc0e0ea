"""The metadata analyzer on files built here with Pillow / PyAV and on real files from the shared testdata."""

from __future__ import annotations

import io
import json
import struct
import warnings
import zlib
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from civicshield.analyzers.meta.bounds import Bounds
from civicshield.analyzers.meta.exif import decode_user_comment
from civicshield.analyzers.meta.iptc import iim_fields, parse_irb
from civicshield.analyzers.meta.names import ai_label, source_type_term
from civicshield.analyzers.meta.payloads import load_json, parse_a1111
from civicshield.analyzers.meta.xmp import parse_xmp
from civicshield.analyzers.metadata import NO_METADATA, MetadataAnalyzer, MetadataWeights
from civicshield.errors import CivicShieldError, UnsupportedMedia
from civicshield.media import Media
from civicshield.settings import Settings
from civicshield.signals import Signal

A1111 = (
    "a portrait of a mayor shaking hands, photorealistic\n"
    "Negative prompt: blurry, lowres\n"
    "Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 1234567890, Size: 832x1216, "
    'Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Lora hashes: "detail: abc123, skin: def456", '
    "Version: v1.9.4"
)
COMFY_PROMPT = {
    "3": {"class_type": "KSampler", "inputs": {"seed": 42, "steps": 20, "sampler_name": "euler", "cfg": 7.0}},
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "flux1-dev.safetensors"}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a crowd at a rally", "clip": ["4", 1]}},
}
COMFY_WORKFLOW = {
    "nodes": [{"id": 3, "type": "KSampler"}, {"id": 4, "type": "CheckpointLoaderSimple"}],
    "links": [],
    "version": 0.4,
}
XMP_AI = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">'
    "<Iptc4xmpExt:DigitalSourceType>http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
    "</Iptc4xmpExt:DigitalSourceType></rdf:Description></rdf:RDF></x:xmpmeta>"
)
XMP_CAPTURE = XMP_AI.replace("trainedAlgorithmicMedia", "digitalCapture")
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    + ']><x:xmpmeta xmlns:x="adobe:ns:meta/">&lol9;</x:xmpmeta>'
)


@pytest.fixture(scope="module")
def analyzer() -> MetadataAnalyzer:
    return MetadataAnalyzer.from_settings(Settings())


def _pixels() -> Image.Image:
    return Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8))


def _png(
    text: dict[str, str] | None = None, *, ztxt: frozenset[str] = frozenset(), xmp: str | None = None
) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value, zip=key in ztxt)
    if xmp is not None:
        info.add_itxt("XML:com.adobe.xmp", xmp)
    buf = io.BytesIO()
    _pixels().save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def _jpeg(
    exif: dict[int, Any] | None = None, sub: dict[int, Any] | None = None, xmp: str | None = None
) -> bytes:
    tags = Image.Exif()
    for tag, value in (exif or {}).items():
        tags[tag] = value
    for tag, value in (sub or {}).items():
        tags.get_ifd(0x8769)[tag] = value
    buf = io.BytesIO()
    kwargs: dict[str, Any] = {"exif": tags}
    if xmp is not None:
        kwargs["xmp"] = xmp.encode()
    _pixels().save(buf, "JPEG", **kwargs)
    return buf.getvalue()


def _analyze(analyzer: MetadataAnalyzer, data: bytes, name: str = "item") -> Signal:
    signal = analyzer.analyze(Media.from_bytes(data, name=name))
    json.dumps(signal.to_dict())  # evidence and details stay JSON-serialisable
    return signal


def _finding(signal: Signal, code: str) -> dict[str, Any]:
    return next(dict(f.detail) for f in signal.findings if f.code == code)


def test_a1111_parameters_chunk_is_parsed(analyzer: MetadataAnalyzer) -> None:
    signal = _analyze(analyzer, _png({"parameters": A1111}))
    weights = MetadataWeights().generator
    assert (signal.score, signal.confidence) == (weights.score, weights.confidence)
    (trace,) = _finding(signal, "metadata.generator")["traces"]
    params = trace["parameters"]
    assert trace["field"] == "text:parameters"
    assert params["prompt"] == "a portrait of a mayor shaking hands, photorealistic"
    assert params["negative_prompt"] == "blurry, lowres"
    assert (params["steps"], params["seed"], params["cfg_scale"]) == (28, 1234567890, 6.5)
    assert (params["sampler"], params["model"], params["size"]) == (
        "DPM++ 2M Karras",
        "sd_xl_base_1.0",
        "832x1216",
    )
    assert params["other"]["Lora hashes"] == "detail: abc123, skin: def456"


def test_a1111_parameters_in_jpeg_user_comment_either_byte_order(analyzer: MetadataAnalyzer) -> None:
    for encoding in ("utf-16-be", "utf-16-le"):
        comment = b"UNICODE\x00" + A1111.encode(encoding)
        signal = _analyze(analyzer, _jpeg(sub={37510: comment}))
        (trace,) = _finding(signal, "metadata.generator")["traces"]
        assert trace["field"] == "exif:UserComment"
        assert trace["parameters"]["seed"] == 1234567890


def test_comfyui_prompt_and_workflow_chunks(analyzer: MetadataAnalyzer) -> None:
    data = _png(
        {"prompt": json.dumps(COMFY_PROMPT), "workflow": json.dumps(COMFY_WORKFLOW)},
        ztxt=frozenset({"workflow"}),
    )
    detail = _finding(_analyze(analyzer, data), "metadata.generator")
    assert detail["generators"] == ["ComfyUI"]
    graph, editor = detail["traces"]
    assert graph["parameters"]["models"] == ["flux1-dev.safetensors"]
    assert graph["parameters"]["seeds"] == [42]
    assert graph["parameters"]["prompts"] == ["a crowd at a rally"]
    assert "KSampler" in graph["parameters"]["node_types"]
    assert editor["field"] == "text:workflow"
    assert editor["parameters"]["node_count"] == 2


def test_novelai_software_and_comment(analyzer: MetadataAnalyzer) -> None:
    comment = {
        "prompt": "1girl, poster",
        "steps": 28,
        "sampler": "k_euler_ancestral",
        "seed": 99,
        "uc": "bad",
    }
    data = _png({"Software": "NovelAI", "Source": "NovelAI Diffusion V4", "Comment": json.dumps(comment)})
    detail = _finding(_analyze(analyzer, data), "metadata.generator")
    assert detail["generators"][0] == "NovelAI"
    comment_trace = next(t for t in detail["traces"] if t["field"] == "text:Comment")
    assert comment_trace["generator"] == "NovelAI"
    assert comment_trace["parameters"]["negative_prompt"] == "bad"


def test_invokeai_metadata(analyzer: MetadataAnalyzer) -> None:
    meta = {"positive_prompt": "a ballot box", "seed": 7, "steps": 30, "model": {"name": "juggernaut"}}
    detail = _finding(_analyze(analyzer, _png({"invokeai_metadata": json.dumps(meta)})), "metadata.generator")
    (trace,) = detail["traces"]
    assert trace["generator"] == "InvokeAI"
    assert trace["parameters"] == {"prompt": "a ballot box", "seed": 7, "steps": 30, "model": "juggernaut"}


@pytest.mark.parametrize(
    ("software", "generator"),
    [
        ("Midjourney", "Midjourney"),
        ("DALL·E 3", "DALL·E"),
        ("Adobe Firefly", "Adobe Firefly"),
        ("Google Imagen 3", "Google Imagen / Gemini"),
        ("FLUX.1 [pro]", "FLUX (Black Forest Labs)"),
        ("Ideogram 2.0", "Ideogram"),
        ("Leonardo.Ai", "Leonardo.Ai"),
    ],
)
def test_generators_named_as_software(analyzer: MetadataAnalyzer, software: str, generator: str) -> None:
    signal = _analyze(analyzer, _jpeg(exif={305: software}))
    assert _finding(signal, "metadata.generator")["generators"] == [generator]


def test_xmp_digital_source_type_declares_ai(analyzer: MetadataAnalyzer) -> None:
    signal = _analyze(analyzer, _jpeg(xmp=XMP_AI))
    weights = MetadataWeights().ai_declared
    assert (signal.score, signal.confidence) == (weights.score, weights.confidence)
    (declaration,) = _finding(signal, "metadata.ai_declared")["declarations"]
    assert declaration["field"] == "xmp:Iptc4xmpExt:DigitalSourceType"
    assert declaration["term"] == "trainedAlgorithmicMedia"


def test_iptc_credit_label_in_jpeg_app13(analyzer: MetadataAnalyzer) -> None:
    credit = b"Made with Google AI"
    iim = b"\x1c\x02\x6e" + struct.pack(">H", len(credit)) + credit
    irb = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(iim)) + iim + b"\x00" * (len(iim) % 2)
    payload = b"Photoshop 3.0\x00" + irb
    plain = _jpeg()
    data = plain[:2] + b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload + plain[2:]
    (declaration,) = _finding(_analyze(analyzer, data), "metadata.ai_declared")["declarations"]
    assert declaration == {"field": "iptc:Credit", "value": "Made with Google AI", "term": "label"}


def test_camera_only_is_weak(analyzer: MetadataAnalyzer) -> None:
    signal = _analyze(
        analyzer, _jpeg(exif={271: "Canon", 272: "Canon EOS R5"}, sub={36867: "2024:05:01 10:00:00"})
    )
    assert [f.code for f in signal.findings] == ["metadata.camera"]
    assert (signal.score, signal.confidence) == (0.35, 0.15)
    detail = _finding(signal, "metadata.camera")
    assert detail["model"] == "Canon EOS R5"
    assert detail["date_time_original"] == "2024:05:01 10:00:00"


def test_capture_declared(analyzer: MetadataAnalyzer) -> None:
    signal = _analyze(analyzer, _jpeg(xmp=XMP_CAPTURE))
    assert signal.has("metadata.capture_declared")
    assert signal.score is not None
    assert signal.score < 0.5


@pytest.mark.parametrize(
    ("exif", "sub", "reason"),
    [
        ({271: "Canon", 272: "NIKON D850"}, {}, "names a different maker"),
        (
            {271: "Apple", 272: "iPhone 15", 306: "2020:01:01 00:00:00"},
            {36867: "2024:06:01 12:00:00"},
            "before",
        ),
        ({271: "Canon", 272: "Canon EOS 5D", 305: "Midjourney v6"}, {}, "generator trace"),
    ],
)
def test_inconsistent_camera_fields(
    analyzer: MetadataAnalyzer, exif: dict[int, str], sub: dict[int, str], reason: str
) -> None:
    signal = _analyze(analyzer, _jpeg(exif=exif, sub=sub))
    reasons = _finding(signal, "metadata.inconsistent")["reasons"]
    assert any(reason in r for r in reasons)
    assert signal.score is not None
    assert signal.score >= MetadataWeights().inconsistent.score


def test_consistent_camera_brands_are_not_flagged(analyzer: MetadataAnalyzer) -> None:
    for make, model in [
        ("NIKON CORPORATION", "NIKON Z 9"),
        ("RICOH IMAGING COMPANY, LTD.", "PENTAX K-3"),
        ("samsung", "Galaxy S23"),
        ("Google", "Pixel 8"),
    ]:
        signal = _analyze(analyzer, _jpeg(exif={271: make, 272: model}, sub={36867: "2024:01:01 00:00:00"}))
        assert not signal.has("metadata.inconsistent"), (make, model)


def test_editing_software_alone_abstains_with_the_finding(analyzer: MetadataAnalyzer) -> None:
    signal = _analyze(analyzer, _png({"Software": "GIMP 2.10.36"}))
    assert signal.abstained
    assert _finding(signal, "metadata.edited")["editors"][0]["editor"] == "GIMP"


def test_no_metadata_abstains(analyzer: MetadataAnalyzer) -> None:
    signal = _analyze(analyzer, _png())
    assert signal.abstained
    assert signal.abstain_reason == NO_METADATA


@pytest.mark.parametrize("where", ["jpeg", "png"])
def test_billion_laughs_xmp_is_refused_quickly(analyzer: MetadataAnalyzer, where: str) -> None:
    data = _jpeg(xmp=BILLION_LAUGHS) if where == "jpeg" else _png(xmp=BILLION_LAUGHS)
    signal = _analyze(analyzer, data)
    assert signal.abstained
    assert any("xmp: refused" in p for p in signal.evidence["problems"])


def test_hostile_payloads_are_bounded(analyzer: MetadataAnalyzer) -> None:
    bomb = zlib.compress(b"A" * (8 << 20))
    chunk = b"zTXt" + b"Comment\x00\x00" + bomb
    plain = _png({"parameters": "x" * 200_000 + "\nSteps: 1, Seed: 2", "prompt": "[" * 100_000})
    iend = plain.rindex(b"IEND") - 4
    data = plain[:iend] + struct.pack(">I", len(chunk) - 4) + chunk + b"\x00" * 4 + plain[iend:]
    signal = _analyze(analyzer, data)
    traces = _finding(signal, "metadata.generator")["traces"]
    assert len(traces[0]["parameters"]["prompt"]) <= Bounds().max_prompt_chars
    assert any("inflates past" in p for p in signal.evidence["problems"])


def test_many_chunks_are_capped_in_evidence(analyzer: MetadataAnalyzer) -> None:
    signal = _analyze(analyzer, _png({f"key{i}": f"value {i}" for i in range(300)}))
    assert len(signal.evidence["fields"]["text"]) <= Bounds().max_keys


def test_text_chunks_after_the_pixel_data_are_read(analyzer: MetadataAnalyzer) -> None:
    plain = _png()
    body = b"parameters\x00" + A1111.encode("latin-1")
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body))
    iend = plain.rindex(b"IEND") - 4
    signal = _analyze(analyzer, plain[:iend] + chunk + plain[iend:])
    assert signal.has("metadata.generator")


def test_video_container_tags(analyzer: MetadataAnalyzer) -> None:
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as container:
        container.metadata["comment"] = "Generated with Sora"
        stream = container.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for i in range(3):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), i * 40, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    detail = _finding(_analyze(analyzer, buf.getvalue(), "clip.mp4"), "metadata.generator")
    assert detail["traces"][0]["field"] == "container:comment"


# Real files -----------------------------------------------------------------------------------------------

REAL = {
    "c2pa-real/contentauth-c2pa-js/firefly_thirdparty_gemini.png": {"metadata.ai_declared"},
    "c2pa-real/contentauth-c2pa-js-legacy/third-party-model.png": {"metadata.ai_declared"},
    "c2pa-real/c2pa-org-public-testfiles/nikon-20221019-building.jpeg": {"metadata.camera"},
    "c2pa-real/contentauth-example-assets/crater-lake-cr.jpg": {"metadata.camera", "metadata.edited"},
    "c2pa/c2pa-rs/fixtures/test_xmp.webp": {"metadata.edited"},
    "c2pa/c2pa-rs/fixtures/sample1.png": {"metadata.camera", "metadata.edited"},  # ImageMagick, after IDAT
    "c2pa/c2pa-rs/fixtures/c.mov": {"metadata.camera"},
    "c2pa/c2pa-rs/fixtures/C.jpg": set(),
    "c2pa-real/contentauth-example-assets/ChatGPT_Image.png": set(),  # C2PA only: the c2pa analyzer's job
}


@pytest.mark.parametrize(("relpath", "codes"), REAL.items())
def test_real_files(testdata: Path, analyzer: MetadataAnalyzer, relpath: str, codes: set[str]) -> None:
    signal = analyzer.analyze(Media.open(testdata / relpath))
    json.dumps(signal.to_dict())
    assert {f.code for f in signal.findings} == codes
    assert signal.abstained is (codes <= {"metadata.edited"})


def test_gemini_label_is_found_in_xmp_and_iptc(testdata: Path, analyzer: MetadataAnalyzer) -> None:
    signal = analyzer.analyze(
        Media.open(testdata / "c2pa-real/contentauth-c2pa-js/firefly_thirdparty_gemini.png")
    )
    fields = {d["field"] for d in _finding(signal, "metadata.ai_declared")["declarations"]}
    assert {"xmp:Iptc4xmpExt:DigitalSourceType", "xmp:photoshop:Credit", "iptc:Credit"} <= fields


def test_text_files_are_not_media(testdata: Path) -> None:
    with pytest.raises(UnsupportedMedia):
        Media.open(testdata / "c2pa/c2pa-rs/fixtures/prompt.txt")


def _damaged(data: bytes, seed: int) -> list[bytes]:
    rng = np.random.default_rng(seed)
    out = [data[:n] for n in (len(data) // 2, len(data) // 5, 200, 40)]
    for _ in range(6):
        flipped = bytearray(data)
        for pos in rng.integers(16, len(data), size=max(8, len(data) // 2000)):
            flipped[pos] ^= int(rng.integers(1, 256))
        out.append(bytes(flipped))
    return out


@pytest.mark.parametrize(
    "source",
    [
        "a1111.png",
        "xmp.jpg",
        "c2pa-real/contentauth-c2pa-js/firefly_thirdparty_gemini.png",
        "c2pa/c2pa-rs/fixtures/test_xmp.webp",
        "c2pa/c2pa-rs/fixtures/IMG_0003.jpg",
        "c2pa/c2pa-rs/fixtures/c.mov",
    ],
)
def test_damaged_files_give_errors_or_signals(
    testdata: Path, analyzer: MetadataAnalyzer, source: str
) -> None:
    built = {
        "a1111.png": lambda: _png({"parameters": A1111, "prompt": json.dumps(COMFY_PROMPT)}),
        "xmp.jpg": lambda: _jpeg(exif={271: "Canon"}, xmp=XMP_AI),
    }
    data = built[source]() if source in built else (testdata / source).read_bytes()
    for i, variant in enumerate(_damaged(data, seed=len(source))):
        try:
            with (
                warnings.catch_warnings()
            ):  # core: Pillow warns on damaged EXIF while Media probes the header
                warnings.simplefilter("ignore", UserWarning)
                media = Media.from_bytes(variant, name=f"{i}-{Path(source).name}")
            signal = analyzer.analyze(media)  # the analyzer itself runs under the strict warning filter
        except CivicShieldError:
            continue
        assert isinstance(signal, Signal)
        json.dumps(signal.to_dict())


# Parsers on their own --------------------------------------------------------------------------------------


def test_a1111_parser_edge_cases() -> None:
    bounds = Bounds()
    assert parse_a1111("just a caption, no settings", bounds) is None
    multi = "line one\nline two\nNegative prompt: bad\nworse\nSteps: 5, Seed: abc, Sampler: Euler"
    parsed = parse_a1111(multi, bounds)
    assert parsed is not None
    assert parsed["prompt"] == "line one\nline two"
    assert parsed["negative_prompt"] == "bad\nworse"
    assert (parsed["steps"], parsed["seed"], parsed["sampler"]) == (5, "abc", "Euler")


def test_a1111_parser_is_linear_on_hostile_lines() -> None:
    for line in (
        "Steps: 1, " + "a" * 50_000,
        "Steps: 1, " + 'k: "' * 10_000,
        "Steps: 1, " + "a b: , " * 5000,
    ):
        assert parse_a1111("prompt\n" + line, Bounds()) is not None
    assert load_json("[" * 500_000, Bounds()) is None


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"ASCII\x00\x00\x00hello", "hello"),
        (b"UNICODE\x00" + "héllo".encode("utf-16-be"), "héllo"),
        (b"UNICODE\x00" + "héllo".encode("utf-16-le"), "héllo"),
        (b"\x00" * 8 + b"plain", "plain"),
        (b"no prefix at all", "no prefix at all"),
    ],
)
def test_user_comment_decoding(raw: bytes, text: str) -> None:
    assert decode_user_comment(raw) == text


@pytest.mark.parametrize(
    ("value", "term"),
    [
        ("http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia", "trainedAlgorithmicMedia"),
        ("TrainedAlgorithmicMedia", "TrainedAlgorithmicMedia"),
        ("http://c2pa.org/digitalsourcetype/empty", "empty"),
        ("<script>", None),
    ],
)
def test_source_type_terms(value: str, term: str | None) -> None:
    assert source_type_term(value) == term


@pytest.mark.parametrize(
    ("text", "labelled"),
    [
        ("Made with Google AI", True),
        ("AI Generated", True),
        ("Not AI generated", False),
        ("Reuters / Jane Doe", False),
        ("AI generated " + "x" * 200, False),
    ],
)
def test_ai_credit_labels(text: str, labelled: bool) -> None:
    assert ai_label(text) is labelled


def test_deep_and_wide_xmp_stays_bounded() -> None:
    bounds = Bounds()
    deep = '<x:xmpmeta xmlns:x="adobe:ns:meta/">' + "<a>" * 60_000 + "t" + "</a>" * 60_000 + "</x:xmpmeta>"
    wide = '<x:xmpmeta xmlns:x="adobe:ns:meta/">' + "<a>v</a>" * 100_000 + "</x:xmpmeta>"
    assert parse_xmp(deep, bounds) == ([], [])
    fields, problems = parse_xmp(wide, bounds)
    assert len(fields) == bounds.max_fields
    assert not problems
    assert parse_xmp("<a><b></a>", bounds)[1] == ["xmp: malformed XML (ParseError)"]
    assert parse_xmp("no xml", bounds)[1] == ["xmp: no XML found"]
    assert parse_xmp(b"x" * (bounds.max_xmp_bytes + 1), bounds)[1][0].startswith("xmp: ")


def test_photoshop_resources_and_iim_tolerate_garbage() -> None:
    bounds = Bounds()
    assert parse_irb(b"8BIM\x04\x04\x00\x00\xff\xff\xff\xff", bounds) == {}
    assert parse_irb(b"8BIM\x04\x04\x05abc", bounds) == {}
    assert iim_fields(b"\x1c\x02\x6e\xff\xff" + b"x" * 10, bounds) == []
    assert iim_fields(b"\x1c\x02\x6e\x00\x40short", bounds)[0].value == "short"
