"""Sending e-mail (invitations, password resets) through the SMTP server a deployment names.

No mail leaves unless ``CIVICSHIELD_SMTP_HOST`` is set (no network at run time except what the user
configures). Tested against a real local SMTP server (``aiosmtpd``) in ``tests/service/test_onboarding.py``.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage

from civicshield.errors import ConfigurationError
from civicshield.service.domain.mailbox import Outgoing
from civicshield.service.settings import MailSettings

__all__ = ["Mailer"]

log = logging.getLogger(__name__)


class Mailer:
    """The SMTP ``Postbox``."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    def send(self, mail: Outgoing) -> None:
        """Deliver ``mail`` to the SMTP server; ``ConfigurationError`` if none is set or it refuses."""
        s = self.settings
        if not s.enabled:
            raise ConfigurationError(
                "no SMTP server is configured (CIVICSHIELD_SMTP_HOST): cannot send e-mail"
            )
        message = EmailMessage()
        message["From"] = s.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message.set_content(mail.body)
        try:
            with smtplib.SMTP(s.host, s.port, timeout=15) as smtp:
                if s.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if s.username:
                    smtp.login(s.username, s.password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            log.error("mail to %s not sent: %s", mail.to, exc)
            raise ConfigurationError(
                f"the SMTP server did not take the message ({type(exc).__name__})"
            ) from exc
