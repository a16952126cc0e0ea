"""Tiplines: messaging platforms people send suspicious media to (``Channel`` plugins).

Each channel verifies that a webhook call really comes from its platform, reads the messages in it, downloads
their media from the platform and sends replies — over HTTP through the egress guard, to the API address
the deployment configures (the platforms' own, or a local server implementing the same endpoints in tests).
What a tip becomes (a request, grouped into a case, answered) is the service's business.
"""

from civicshield.intake.channels.base import Channel, Downloaded, Inbound
from civicshield.intake.channels.email import EmailTipline
from civicshield.intake.channels.telegram import Telegram
from civicshield.intake.channels.whatsapp import WhatsApp

__all__ = ["Channel", "Downloaded", "EmailTipline", "Inbound", "Telegram", "WhatsApp"]
