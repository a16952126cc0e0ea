"""``impersonation``: the people, domains and accounts of a watchlist, found in the item.

What it reads: the file name, every metadata field (EXIF, XMP, IPTC, PNG text, container tags), the names
in Content Credentials (title, authors, signer, claim generator) and, in pictures, the text of QR codes.
In those it finds the names and aliases of protected people (``protection.names``), and the hosts and
profile handles of every link, checked against the protected domains (``protection.domains``) and handles
(``protection.handles``): official, or a lookalike.

Faces and voices: when the watchlist holds reference embeddings (``civicshield watchlist enrol``), the faces
in a picture or in a video's frames (YuNet + SFace) and the voice in audio or a video's sound (GE2E) are
compared with them at the measured thresholds of ``protection.likeness``. Faces too small and audio with too
little sound are not compared, and the signal says so.

What it concludes: a lookalike of a protected domain is strong evidence of impersonation by itself — nobody
links to ``kiesraad-stemmen.com`` in good faith — and is reported with a score. A protected person's name,
face or voice is **not** evidence of a fake (genuine photos show and name the people in them): it is
reported in an abstaining signal, and the fusion policy calls an item ``impersonation_suspected`` only when
another line of evidence says the item is synthetic or altered.

The watchlist comes from ``Settings.watchlist`` (``--watchlist`` / ``CIVICSHIELD_WATCHLIST``); without one
the analyzer abstains. A watchlist file that cannot be read stops the start (``InvalidSetting``).
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from functools import cache
from typing import Any, ClassVar, Self

import numpy as np

from civicshield.analyzers.base import Analyzer, Example
from civicshield.analyzers.metadata import MetadataAnalyzer
from civicshield.banks.policy import DEFAULT_POLICY
from civicshield.errors import AnalyzerUnavailable, InvalidSetting, MediaError, UsageError
from civicshield.hashing.cache import media_hashes
from civicshield.hashing.pdq import hamming
from civicshield.media import Media, MediaKind, decode_audio, decode_image, video_frames
from civicshield.protection.domains import DomainCheck, Lookalikes
from civicshield.protection.handles import HandleCheck, check_handle, handles_in_text
from civicshield.protection.likeness import FACE_DIM, VOICE_DIM, Embedding, Likeness, embedding, matches
from civicshield.protection.links import hosts_in_text, qr_texts
from civicshield.protection.names import NameHit, find_names
from civicshield.protection.watchlist import ProtectedVisual, Watchlist
from civicshield.provenance.reader import read_credentials
from civicshield.provenance.trust import TrustPolicy
from civicshield.settings import Settings
from civicshield.signals import Finding, Signal

__all__ = ["ImpersonationAnalyzer", "ImpersonationPolicy", "Observed", "reference_face", "reference_voice"]

log = logging.getLogger(__name__)

_METADATA = MetadataAnalyzer()  # only its reader: fields as the metadata analyzer sees them


@dataclass(frozen=True)
class ImpersonationPolicy:
    version: str = "impersonation-2026.12.1"
    lookalike_score: float = 0.9
    lookalike_confidence: float = 0.8
    qr_max_pixels: int = 40_000_000  # larger pictures are not searched for QR codes (bounds the time)
    max_findings: int = 10
    min_face_px: int = 40  # smaller faces carry too little detail to tell people apart
    video_frames: int = 8  # frames of a video searched for faces, one per second from the start


@dataclass(frozen=True)
class Observed:
    """What ``ImpersonationAnalyzer.read`` found in an item, independent of any watchlist: texts as
    ``(where, text)``, face and voice embeddings as ``(where, embedding)``, and why some were not taken."""

    texts: tuple[tuple[str, str], ...]
    faces: tuple[tuple[str, Embedding], ...] = ()
    voices: tuple[tuple[str, Embedding], ...] = ()
    pictures: tuple[tuple[str, str], ...] = ()  # (how the picture was looked at, its PDQ hex)
    notes: tuple[str, ...] = field(default=())


class ImpersonationAnalyzer(Analyzer):
    name = "impersonation"
    description = (
        "Finds the people, domains and accounts of a watchlist in the item: protected names, faces and "
        "voices, lookalikes of protected domains and social handles in its links (metadata URLs, QR "
        "codes). A lookalike is evidence of impersonation; a name, face or voice alone is not evidence of a "
        "fake."
    )
    kinds = frozenset(MediaKind)
    examples = (Example("phishing_poster.png", "impersonation.lookalike_domain"),)
    policy: ClassVar[ImpersonationPolicy] = ImpersonationPolicy()

    def __init__(self, watchlist: Watchlist) -> None:
        self.watchlist = watchlist
        self.lookalikes = Lookalikes(watchlist.domains)

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        if settings.watchlist is None:
            return cls(Watchlist())
        try:
            return cls(Watchlist.load(settings.watchlist))
        except UsageError as exc:
            raise InvalidSetting(f"watchlist: {exc.message}") from exc

    def analyze(self, media: Media) -> Signal:
        if not len(self.watchlist):
            return Signal.abstain(self.name, "no watchlist configured (--watchlist or CIVICSHIELD_WATCHLIST)")
        observed = self.read(
            media,
            faces=self.watchlist.has_faces,
            voices=self.watchlist.has_voices,
            visuals=bool(self.watchlist.visuals),
        )
        return self.judge(observed)

    @classmethod
    def read(
        cls, media: Media, *, faces: bool = False, voices: bool = False, visuals: bool = False
    ) -> Observed:
        """What ``media`` holds for the checks: its file name, every metadata field and the QR codes in a
        picture; with ``faces`` / ``voices``, the embeddings of its faces and voice. Independent of any
        watchlist, so read once per item."""
        texts = [("file name", media.name)] + [(f.where, f.value) for f in _METADATA.read(media)]
        texts += cls._credential_texts(media)
        texts += [("QR code", text) for text in cls._qr_codes(media)]
        notes: list[str] = []
        found_faces = cls._faces(media, notes) if faces else []
        found_voices = cls._voices(media, notes) if voices else []
        pictures = cls._pictures(media, notes) if visuals else []
        return Observed(tuple(texts), tuple(found_faces), tuple(found_voices), tuple(pictures), tuple(notes))

    def judge(self, observed: Observed) -> Signal:
        """What ``read``'s observations say about this analyzer's watchlist."""
        texts = list(observed.texts)
        evidence: dict[str, Any] = {"policy": self.policy.version, "watchlist_entries": len(self.watchlist)}
        if observed.notes and (self.watchlist.has_faces or self.watchlist.has_voices):
            evidence["not_compared"] = list(observed.notes)
        names = find_names(self.watchlist.people, texts)
        likenesses = matches(self.watchlist.people, "face", list(observed.faces))
        likenesses += matches(self.watchlist.people, "voice", list(observed.voices))
        copies = _visual_matches(self.watchlist.visuals, observed.pictures)
        checks = [
            (where, check)
            for where, text in texts
            for host in hosts_in_text(text)
            if (check := self.lookalikes.check(host)) is not None
        ]
        lookalikes = [(w, c) for w, c in checks if c.kind == "lookalike"][: self.policy.max_findings]
        handles = [
            (where, found)
            for where, text in texts
            for platform, handle in handles_in_text(text)
            if (found := check_handle(platform, handle, self.watchlist.handles)) is not None
        ]
        fake_handles = [(w, c) for w, c in handles if c.kind == "lookalike"][: self.policy.max_findings]
        official = sorted({c.host for _, c in checks if c.kind == "official"})
        if official:
            evidence["official_links"] = official
        findings = [_lookalike(where, check) for where, check in lookalikes]
        findings += [_fake_handle(where, check) for where, check in fake_handles]
        findings += [_named(hit) for hit in names[: self.policy.max_findings]]
        findings += [_likeness(hit) for hit in likenesses[: self.policy.max_findings]]
        findings += [
            _copy(visual, distance, how) for visual, distance, how in copies[: self.policy.max_findings]
        ]
        if lookalikes or fake_handles:
            if lookalikes:
                first = lookalikes[0][1]
                reason = f"links to {first.host}, a lookalike of protected domain {first.protected.name}"
            else:
                handle = fake_handles[0][1]
                reason = (
                    f"links to @{handle.handle} on {handle.platform}, a lookalike of {handle.protected.label}"
                )
            return Signal(
                self.name,
                self.policy.lookalike_score,
                self.policy.lookalike_confidence,
                reason,
                findings=tuple(findings),
                evidence=evidence,
            )
        if names or likenesses:
            seen = dict.fromkeys([hit.person.name for hit in names] + [hit.person.name for hit in likenesses])
            how = sorted({"named"} if names else set()) + sorted({f"{hit.kind} match" for hit in likenesses})
            reason = (
                f"protected {'people' if len(seen) > 1 else 'person'} {', '.join(seen)} ({', '.join(how)}); "
                "a person in an item is not evidence of a fake"
            )
            return Signal.abstain(self.name, reason, findings=findings, evidence=evidence)
        if copies:
            reason = f"looks like protected visual {copies[0][0].name}; a copy is not evidence of a fake"
            return Signal.abstain(self.name, reason, findings=findings, evidence=evidence)
        return Signal.abstain(self.name, "no protected person or domain lookalike found", evidence=evidence)

    @staticmethod
    def _credential_texts(media: Media) -> list[tuple[str, str]]:
        """Names the Content Credentials carry: titles, authors, signers, the tool that made the claim (read
        offline and untrusted: a name is looked for, not a signature judged)."""
        report = read_credentials(media.data, media.mime, trust=TrustPolicy(profile="none"))
        texts: list[tuple[str, str]] = []
        for manifest in report.manifests:
            values = [manifest.title, manifest.claim_generator, *manifest.authors]
            values += [manifest.signer.common_name, manifest.signer.organization]
            texts += [("Content Credentials", v) for v in values if v]
        return texts

    @classmethod
    def _qr_codes(cls, media: Media) -> list[str]:
        if media.kind is not MediaKind.IMAGE:
            return []
        image = decode_image(media, mode="RGB")
        if image.width * image.height > cls.policy.qr_max_pixels:
            return []
        return qr_texts(np.asarray(image, dtype=np.uint8))

    @classmethod
    def _faces(cls, media: Media, notes: list[str]) -> list[tuple[str, Embedding]]:
        if media.kind is MediaKind.AUDIO:
            return []
        try:
            models = _face_models()
            if media.kind is MediaKind.IMAGE:
                pictures = [("picture", np.asarray(decode_image(media, mode="RGB"), dtype=np.uint8))]
            else:
                taken = list(itertools.islice(video_frames(media, fps=1.0), cls.policy.video_frames))
                pictures = [(f"frame at {f.timestamp_s:.0f} s", f.rgb) for f in taken]
        except (AnalyzerUnavailable, MediaError) as exc:
            notes.append(f"faces not compared: {exc}")
            return []
        found: list[tuple[str, Embedding]] = []
        small = 0
        for where, rgb in pictures:
            for face in models.detect(rgb):
                if face.size < cls.policy.min_face_px:
                    small += 1
                    continue
                found.append(
                    (f"face {face.index} in the {where}", embedding(models.embed(rgb, face).vector, FACE_DIM))
                )
        if small:
            notes.append(f"{small} face(s) under {cls.policy.min_face_px} px not compared")
        return found

    @staticmethod
    def _pictures(media: Media, notes: list[str]) -> list[tuple[str, str]]:
        if media.kind is not MediaKind.IMAGE:
            return []
        try:
            hashes = media_hashes(media)
        except (AnalyzerUnavailable, MediaError) as exc:
            notes.append(f"visuals not compared: {exc}")
            return []
        return [
            (query.turn or ("EXIF-oriented" if query.oriented else "as stored"), query.hash.hex)
            for query in hashes.pdq_queries(DEFAULT_POLICY.pdq_min_quality)
        ]

    @classmethod
    def _voices(cls, media: Media, notes: list[str]) -> list[tuple[str, Embedding]]:
        if media.kind is MediaKind.IMAGE or not media.info.has_audio:
            return []
        try:
            encoder = _speaker_encoder()
            voiceprint = encoder.voiceprint(decode_audio(media))
        except (AnalyzerUnavailable, MediaError) as exc:
            notes.append(f"voice not compared: {exc}")
            return []
        if voiceprint is None:
            notes.append("voice not compared: too little sound")
            return []
        return [
            (
                "the sound track" if media.kind is MediaKind.VIDEO else "the audio",
                embedding(np.asarray(voiceprint.vector), VOICE_DIM),
            )
        ]


def reference_face(media: Media) -> Embedding:
    """The face embedding of a reference photo of a protected person: its largest face, which must be at
    least ``min_face_px`` and clearly the largest. ``UsageError`` saying why otherwise."""
    if media.kind is not MediaKind.IMAGE:
        raise UsageError(f"{media.name}: a reference face must be a photo")
    rgb = np.asarray(decode_image(media, mode="RGB"), dtype=np.uint8)
    models = _face_models()
    faces = sorted(models.detect(rgb), key=lambda f: -f.size)
    minimum = ImpersonationAnalyzer.policy.min_face_px
    if not faces or faces[0].size < minimum:
        raise UsageError(f"{media.name}: no face of at least {minimum} px found; use a clear, frontal photo")
    if len(faces) > 1 and faces[1].size > 0.7 * faces[0].size:
        raise UsageError(f"{media.name}: {len(faces)} faces of similar size; use a photo of the one person")
    return embedding(models.embed(rgb, faces[0]).vector, FACE_DIM)


def reference_voice(media: Media) -> Embedding:
    """The voiceprint of a reference recording of a protected person (``UsageError`` when it holds too
    little sound: at least a few seconds of the person speaking alone are needed)."""
    if media.kind is MediaKind.IMAGE or not media.info.has_audio:
        raise UsageError(f"{media.name}: a reference voice must be an audio or video file with sound")
    voiceprint = _speaker_encoder().voiceprint(decode_audio(media))
    if voiceprint is None:
        raise UsageError(
            f"{media.name}: too little sound for a voiceprint; use a few seconds of clear speech"
        )
    return embedding(np.asarray(voiceprint.vector), VOICE_DIM)


@cache
def _face_models() -> Any:
    from civicshield.analyzers.ml.faces_detect import FaceModels

    return FaceModels.load("impersonation")


@cache
def _speaker_encoder() -> Any:
    from civicshield.analyzers.ml.voice_model import SpeakerEncoder

    return SpeakerEncoder(what="impersonation")


def _likeness(hit: Likeness) -> Finding:
    owner = f" ({hit.person.organization})" if hit.person.organization else ""
    return Finding(
        f"impersonation.{hit.kind}_match",
        f"the {hit.where} {'looks' if hit.kind == 'face' else 'sounds'} like protected person "
        f"{hit.person.name}{owner} (similarity {hit.similarity:.2f})",
        {"person": hit.person.name, "similarity": round(hit.similarity, 4), "where": hit.where},
    )


def _fake_handle(where: str, check: HandleCheck) -> Finding:
    owner = f" ({check.protected.organization})" if check.protected.organization else ""
    return Finding(
        "impersonation.lookalike_handle",
        f"a link to @{check.handle} on {check.platform} (in {where}) imitates the protected account "
        f"{check.protected.label}{owner}: {check.how.replace('-', ' ')}",
        {
            "platform": check.platform,
            "handle": check.handle,
            "protected": check.protected.label,
            "how": check.how,
        },
    )


def _visual_matches(
    visuals: tuple[ProtectedVisual, ...], pictures: tuple[tuple[str, str], ...]
) -> list[tuple[ProtectedVisual, int, str]]:
    """Each protected visual the item is a copy of (PDQ within the bank's match distance), closest first."""
    found = []
    for visual in visuals:
        best = min(((hamming(visual.pdq, pdq), how) for how, pdq in pictures), default=None)
        if best is not None and best[0] <= DEFAULT_POLICY.pdq_max_distance:
            found.append((visual, best[0], best[1]))
    return sorted(found, key=lambda hit: hit[1])


def _copy(visual: ProtectedVisual, distance: int, how: str) -> Finding:
    owner = f" ({visual.organization})" if visual.organization else ""
    return Finding(
        "impersonation.visual_match",
        f"looks like protected visual {visual.name}{owner} (PDQ distance {distance}, {how})",
        {"visual": visual.name, "distance": distance, "how": how},
    )


def _lookalike(where: str, check: DomainCheck) -> Finding:
    owner = f" ({check.protected.organization})" if check.protected.organization else ""
    return Finding(
        "impersonation.lookalike_domain",
        f"a link to {check.host} (in {where}) imitates the protected domain {check.protected.name}{owner}: "
        f"{check.how.replace('-', ' ')}",
        {"host": check.host, "protected": check.protected.name, "how": check.how, "where": where},
    )


def _named(hit: NameHit) -> Finding:
    owner = f" ({hit.person.organization})" if hit.person.organization else ""
    return Finding(
        "impersonation.person_named",
        f"names protected person {hit.person.name}{owner} (in {hit.where})",
        {"person": hit.person.name, "matched": hit.name, "where": hit.where},
    )
