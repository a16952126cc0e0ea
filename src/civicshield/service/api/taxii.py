"""TAXII 2.1 read endpoints (filled in by the sharing work)."""

from fastapi import APIRouter

router = APIRouter(tags=["taxii"])
