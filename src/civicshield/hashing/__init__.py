"""Perceptual hashes: PDQ (images), vPDQ (video), Chromaprint (audio), and the PDQ index.

They identify *content*, not authenticity: a hash says "this is (nearly) that known item", which is what the
bank analyzers need. ``media_hashes`` computes them once per item.
"""

from civicshield.hashing.audio import AudioFingerprint, AudioMatch, compare_fingerprints, fingerprint_audio
from civicshield.hashing.cache import MediaHashes, clear_hash_cache, media_hashes
from civicshield.hashing.index import FlatPdqIndex, IndexHit, MultiHashPdqIndex, PdqIndex
from civicshield.hashing.pdq import PdqHash, hamming, image_pdq, parse_pdq_hex, pdq_from_rgb
from civicshield.hashing.vpdq import VideoHash, VpdqFrame, VpdqMatch, hash_video, match_vpdq

__all__ = [
    "AudioFingerprint",
    "AudioMatch",
    "FlatPdqIndex",
    "IndexHit",
    "MediaHashes",
    "MultiHashPdqIndex",
    "PdqHash",
    "PdqIndex",
    "VideoHash",
    "VpdqFrame",
    "VpdqMatch",
    "clear_hash_cache",
    "compare_fingerprints",
    "fingerprint_audio",
    "hamming",
    "hash_video",
    "image_pdq",
    "match_vpdq",
    "media_hashes",
    "parse_pdq_hex",
    "pdq_from_rgb",
]
