"""Server-rendered web interface (filled in by the UI work)."""

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Mount the UI's routes and static files on ``app``."""
