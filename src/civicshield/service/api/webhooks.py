"""Webhooks and subscriptions (filled in by the alerts work)."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
