"""How suspicious media reaches CivicShield besides an upload: a link to a post (``links``)."""

from civicshield.intake.links import FetchedMedia, FetchedPost, LinkFetchFailed, LinkLimits, fetch_post

__all__ = ["FetchedMedia", "FetchedPost", "LinkFetchFailed", "LinkLimits", "fetch_post"]
