"""``civicshield demo``: build a small, generated demo set, analyze it and write the HTML report.

Every file is drawn here (posters, shapes, tones; no people's faces), so the demo needs no download. Each
item shows one line of evidence deciding a verdict:

========================  ==================================================  =========================
file                      how it is made                                      expected verdict
========================  ==================================================  =========================
official_poster.jpg       signed with a demo certificate, registered          authentic_provenance
altered_poster.jpg        the official poster with its date changed           altered_official
tampered_poster.jpg       the signed poster with pixels changed after signing tampered
generated_sd.png          a PNG with a Stable Diffusion ``parameters`` chunk  ai_generated_declared
watermarked_sdxl.png      an image carrying the SDXL invisible watermark      ai_generated_declared
reupload_fake.jpg         a resized re-upload of a debunked fake              known_fake
reupload_clip.mp4         a re-encoded copy of a debunked video               known_fake
voice_message.wav         a synthetic voice (espeak-ng), when installed       possibly_synthetic
phishing_poster.png       a QR code to a lookalike of the authority's domain  impersonation_suspected
========================  ==================================================  =========================

The demo's watchlist (``work/watchlist.toml``) protects the demo authority's domain ``elections.example``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, PngImagePlugin

from civicshield.demo import synth
from civicshield.settings import Settings

EXPECTED = {
    "official_poster.jpg": "authentic_provenance",
    "altered_poster.jpg": "altered_official",
    "tampered_poster.jpg": "tampered",
    "generated_sd.png": "ai_generated_declared",
    "watermarked_sdxl.png": "ai_generated_declared",
    "reupload_fake.jpg": "known_fake",
    "reupload_clip.mp4": "known_fake",
    "voice_message.wav": "possibly_synthetic",
    "phishing_poster.png": "impersonation_suspected",
}
DEMO_WATCHLIST = """# The demo authority's protected domain (civicshield analyze --watchlist; see the README)
[[domain]]
name = "elections.example"
organization = "Demo Election Authority"
"""

SD_PARAMETERS = (
    "a crowd cheering at a rally, photorealistic\nNegative prompt: blurry\n"
    "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234, Size: 768x512, "
    "Model hash: 31e35c80fc, Model: sd_xl_base_1.0"
)


@dataclass(frozen=True)
class DemoSet:
    media_dir: Path
    settings: Settings
    expected: dict[str, str]


def _flip_pixels_after_signing(src: Path, dst: Path) -> None:
    """Change bytes in the JPEG's entropy-coded image data, leaving the C2PA manifest (in APP11) intact."""
    data = bytearray(src.read_bytes())
    sos = data.rfind(b"\xff\xda")
    start = sos + 400
    for i in range(start, min(start + 2000, len(data) - 4), 97):
        if data[i] not in (0xFF, 0x00):
            data[i] ^= 0x11
    dst.write_bytes(bytes(data))


def _change_date(src: Path, dst: Path) -> None:
    """The official poster with the '9' of '9 JUNE' painted over by a '6' (an edited copy, no credentials)."""
    from PIL import ImageDraw, ImageFont

    img = Image.open(src).convert("RGB")
    w, h = img.size
    font = ImageFont.load_default(size=max(24, w // 12))
    draw = ImageDraw.Draw(img)
    left = w // 20 + int(draw.textlength("VOTE ", font=font))
    top = int(h * 0.75)
    box = draw.textbbox((left, top), "9", font=font)
    draw.rectangle([box[0] - 2, box[1] - 2, box[2] + 2, box[3] + 2], fill=(250, 250, 245))
    draw.text((left, top), "6", fill=(20, 30, 90), font=font)
    img.save(dst, format="JPEG", quality=85)


def _watermarked(path: Path) -> Path:
    import numpy as np

    from civicshield.analyzers._imwatermark import encoder_class

    img = synth.poster("HARBOUR AT DAWN", size=(640, 480), seed=21).convert("RGB")
    noise = np.random.default_rng(21).normal(
        0, 12, (480, 640, 3)
    )  # texture: dwtDct needs some to hide bits in
    bgr = np.clip(np.asarray(img, dtype=np.float64) + noise, 0, 255).astype(np.uint8)[:, :, ::-1].copy()
    encoder = encoder_class()()
    encoder.set_watermark("bits", [int(b) for b in f"{0xB3EC907BB19E:048b}"])
    marked = encoder.encode(bgr, "dwtDct")
    Image.fromarray(np.ascontiguousarray(marked[:, :, ::-1])).save(path, format="PNG")
    return path


def _phishing_poster(path: Path, url: str) -> Path:
    import numpy as np
    import zxingcpp

    poster = synth.poster("REGISTER TO VOTE ONLINE", size=(640, 480), seed=17).convert("RGB")
    code = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode).to_image(scale=5)
    poster.paste(Image.fromarray(np.asarray(code)).convert("RGB"), (440, 260))
    poster.save(path, format="PNG")
    return path


def build(out: Path, data_dir: Path | None = None) -> DemoSet:
    """Create the demo media under ``out`` and its banks under ``data_dir`` (default ``out/data``),
    replacing an earlier demo there."""
    from civicshield.banks import BankKind, BankStore
    from civicshield.media import Media
    from civicshield.signing import DEMO_CA_FILE, make_demo_signer, sign_media

    media_dir, work = out / "media", out / "work"
    data_dir = data_dir or out / "data"
    for d in (media_dir, work, data_dir / "banks"):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    cert, key = make_demo_signer(work / "certs", organization="Demo Election Authority")
    watchlist = work / "watchlist.toml"
    watchlist.write_text(DEMO_WATCHLIST, encoding="utf-8")
    settings = Settings(
        data_dir=data_dir, extra_trust_anchors=cert.parent / DEMO_CA_FILE, watchlist=watchlist
    )
    store = BankStore.from_settings(settings)

    # 1-3: official poster, signed and registered; an edited copy; a tampered copy.
    original = synth.save_image(synth.poster("VOTE 9 JUNE"), work / "poster.jpg", quality=92)
    official = media_dir / "official_poster.jpg"
    sign_media(
        original,
        official,
        cert_chain_pem=cert.read_bytes(),
        private_key_pem=key.read_bytes(),
        organization="Demo Election Authority",
        digital_source_type="digitalCapture",
    )
    store.ensure("official", BankKind.AUTHENTIC, "Official media registered by its publisher")
    store.add_media(
        "official",
        Media.open(official),
        "Official poster: elections on 9 June",
        "https://elections.example/posters/9-june",
    )
    _change_date(official, media_dir / "altered_poster.jpg")
    _flip_pixels_after_signing(official, media_dir / "tampered_poster.jpg")

    # 4-5: declared generation, in metadata and as an invisible watermark.
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", SD_PARAMETERS)
    synth.poster("RALLY", size=(768, 512), seed=5).save(media_dir / "generated_sd.png", pnginfo=info)
    _watermarked(media_dir / "watermarked_sdxl.png")

    # 6-7: debunked fakes in the known-fake bank, and re-uploads of them.
    fake = synth.save_image(synth.poster("BALLOTS BURNED", size=(900, 700), seed=13), work / "fake.jpg")
    clip = synth.write_video(work / "fake_clip.mp4", seconds=6, fps=10, size=(320, 240), text="BREAKING")
    store.ensure("debunked", BankKind.KNOWN_FAKE, "Fakes confirmed by fact-checkers")
    for path, label in (
        (fake, "Fabricated photo of burned ballots"),
        (clip, "Fabricated 'breaking news' clip"),
    ):
        store.add_media("debunked", Media.open(path), label, "https://factcheck.example/debunked/1")
    Image.open(fake).resize((600, 467)).save(media_dir / "reupload_fake.jpg", quality=70)
    _reencode(clip, media_dir / "reupload_clip.mp4")

    # 8: a poster whose QR code leads to a lookalike of the authority's site (phishing for voters' details).
    _phishing_poster(media_dir / "phishing_poster.png", "https://elections-example.com/register")

    # 9: an unseen synthetic voice message (text-to-speech), judged by the speech detector alone.
    expected = dict(EXPECTED)
    if not _speak(media_dir / "voice_message.wav"):
        del expected["voice_message.wav"]
    return DemoSet(media_dir=media_dir, settings=settings, expected=expected)


VOICE_TEXT = (
    "Attention voters. Due to a technical problem, polling stations in your district will close at noon "
    "today. Please vote early or come back tomorrow."
)


def _speak(path: Path) -> bool:
    """A fake robocall made with espeak-ng (Debian package; installed by ``make``). False when absent."""
    import shutil
    import subprocess

    exe = shutil.which("espeak-ng")
    if exe is None:
        return False
    subprocess.run(
        [exe, "-v", "en-us", "-s", "150", "-w", str(path), VOICE_TEXT],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return path.is_file()


def _reencode(src: Path, dst: Path) -> None:
    import av

    with av.open(str(src)) as inp, av.open(str(dst), mode="w") as out:
        vin = inp.streams.video[0]
        vout = out.add_stream("libx264", rate=10)
        vout.width, vout.height, vout.pix_fmt = 320, 240, "yuv420p"
        vout.options = {"crf": "35", "preset": "ultrafast"}
        for frame in inp.decode(vin):
            img = frame.to_image()  # type: ignore[no-untyped-call]
            new = frame.from_image(img)  # type: ignore[no-untyped-call]
            new.pts = frame.pts
            new.time_base = frame.time_base
            for packet in vout.encode(new):
                out.mux(packet)
        for packet in vout.encode(None):
            out.mux(packet)
