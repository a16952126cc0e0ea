"""Formant-synthesised speech from Debian's ``espeak-ng``, as extra spoof examples (build time only).

Why: the dev set's AI speech is all neural TTS; espeak-ng is a completely different (rule-based, formant)
family that no anti-spoofing corpus trains on, so it shows how the detector handles an unseen, obviously
synthetic voice. The sentences are our own; voices and speeds vary so the clips are not near-duplicates.

    .venv/bin/python tools/aasist/espeak.py /tmp/aasist-espeak      # writes 16 kHz mono WAVs

Needs ``apt-get install espeak-ng``. Output is deterministic for a given espeak-ng version (1.51 here).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

SENTENCES = (
    "Polling stations open at seven in the morning and close at ten at night.",
    "Bring a photo identity document and your polling card to vote.",
    "The electoral commission will publish the provisional results tomorrow.",
    "Postal ballots must arrive before the close of polls on election day.",
    "Every candidate has agreed to respect the result of the count.",
    "Turnout in the northern districts was higher than at the last election.",
    "If you have moved house, check that your registration is up to date.",
    "Observers from four organisations watched the counting of the ballots.",
    "The debate between the two leading candidates starts at eight o'clock.",
    "Voting is secret, and nobody may ask you how you voted.",
    "The recount in the coastal constituency confirmed the original result.",
    "Accessible voting booths are available at every polling station.",
    "Please do not share photographs of your completed ballot paper.",
    "The ministry denies reports that the election has been postponed.",
    "Results from the capital are expected shortly after midnight.",
    "Campaigning must stop forty eight hours before the polls open.",
)
VOICES = (
    "en-us",
    "en-gb",
    "en-gb-scotland",
    "en-029",
    "en-us+f3",
    "en-gb+m3",
    "en-us+klatt",
    "en-gb-x-rp+f2",
)
SPEEDS = (150, 175)


def synthesize(out_dir: Path) -> list[Path]:
    """One WAV per sentence, cycling voices and speeds; resampled to 16 kHz mono with PyAV."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SystemExit("espeak-ng is not installed (apt-get install -y espeak-ng)")
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, text in enumerate(SENTENCES):
        voice, speed = VOICES[i % len(VOICES)], SPEEDS[(i // len(VOICES)) % len(SPEEDS)]
        raw = out_dir / f"raw_{i:02d}.wav"
        subprocess.run([exe, "-v", voice, "-s", str(speed), "-w", str(raw), text], check=True)
        paths.append(_to_16k(raw, out_dir / f"espeak_{i:02d}_{voice.replace('+', '-')}.wav"))
        raw.unlink()
    return paths


def _to_16k(src: Path, dst: Path) -> Path:
    from civicshield.demo.synth import write_audio
    from civicshield.media import Media, decode_audio

    return write_audio(dst, decode_audio(Media.open(src), sample_rate=16_000))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    for path in synthesize(parser.parse_args().out):
        print(path)


if __name__ == "__main__":
    sys.exit(main())
