"""Service settings: one typed object built at the entry point (``civicshield serve`` / ``worker``) and passed
down. Nothing connects at import time."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from civicshield.egress import EgressPolicy
from civicshield.errors import ConfigurationError
from civicshield.service.domain.sessions import SessionPolicy
from civicshield.service.domain.throttle import ThrottlePolicy
from civicshield.settings import TRUE_WORDS, Limits
from civicshield.settings import Settings as AnalysisSettings

LogFormat = Literal["json", "text"]


@dataclass(frozen=True)
class MailSettings:
    host: str = ""  # "" = no mail is sent
    port: int = 25
    sender: str = "CivicShield <civicshield@localhost>"
    starttls: bool = False
    username: str = ""
    password: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.host)


@dataclass(frozen=True)
class RetentionPolicy:
    public_submission_days: int = 30  # anonymous submissions no case took up
    personal_data_days: int = 90  # ended sessions (with their addresses), used or expired links
    throttle_hours: int = 24  # sign-in failure counts (email addresses and IP addresses)


@dataclass(frozen=True)
class TiplineSettings:
    """Messaging tiplines (``intake.channels``): which organization receives the tips, and each platform's
    credentials and API address (the platforms' own by default; a local server in tests)."""

    org: str = ""  # the receiving organization's name; "" = tiplines off
    networks: tuple[str, ...] = ()  # private networks the platform APIs may be reached on (tests, proxies)
    telegram_token: str = field(default="", repr=False)
    telegram_secret: str = field(default="", repr=False)
    telegram_api: str = "https://api.telegram.org"
    whatsapp_token: str = field(default="", repr=False)
    whatsapp_app_secret: str = field(default="", repr=False)
    whatsapp_verify_token: str = field(default="", repr=False)
    whatsapp_phone_id: str = ""
    whatsapp_api: str = "https://graph.facebook.com/v21.0"
    email: bool = False  # tips by e-mail, through the SMTP receiver (``civicshield tipline-smtp``)

    @classmethod
    def from_env(cls, env: dict[str, str]) -> TiplineSettings:
        return cls(
            org=env.get("CIVICSHIELD_TIPLINE_ORG", ""),
            networks=split_networks(env.get("CIVICSHIELD_TIPLINE_NETWORKS", "")),
            telegram_token=env.get("CIVICSHIELD_TELEGRAM_TOKEN", ""),
            telegram_secret=env.get("CIVICSHIELD_TELEGRAM_SECRET", ""),
            telegram_api=env.get("CIVICSHIELD_TELEGRAM_API", cls.telegram_api),
            whatsapp_token=env.get("CIVICSHIELD_WHATSAPP_TOKEN", ""),
            whatsapp_app_secret=env.get("CIVICSHIELD_WHATSAPP_APP_SECRET", ""),
            whatsapp_verify_token=env.get("CIVICSHIELD_WHATSAPP_VERIFY_TOKEN", ""),
            whatsapp_phone_id=env.get("CIVICSHIELD_WHATSAPP_PHONE_ID", ""),
            whatsapp_api=env.get("CIVICSHIELD_WHATSAPP_API", cls.whatsapp_api),
            email=env.get("CIVICSHIELD_TIPLINE_EMAIL", "").strip().lower() in TRUE_WORDS,
        )


@dataclass(frozen=True)
class ServiceSettings:
    data_dir: Path = field(default_factory=lambda: Path(".civicshield"))
    database_url: str = ""  # "" = SQLite file in data_dir
    broker_url: str = ""  # "" = embedded: Kombu's SQLAlchemy transport over a SQLite file in data_dir
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    base_url: str = "http://127.0.0.1:8000"
    max_upload_bytes: int = 200 * 1024 * 1024
    max_json_bytes: int = 32 * 1024 * 1024  # any body that is not a multipart upload (hash batches, entries)
    embedded_worker: bool = True
    job_lease_s: int = 600
    unauthenticated_rate_per_minute: int = 60
    # Seconds a resolved API key is trusted without reading it again (``infra.key_cache``): another
    # process's revocation takes effect within this time, this process's at once. 0: read on every request.
    key_cache_s: int = 10
    # Networks webhooks may reach although they are not public (CIDRs, e.g. "10.20.0.0/16" or "127.0.0.0/8").
    # Empty: only public addresses, so subscribers cannot aim deliveries at internal services (``egress``).
    webhook_allowed_networks: tuple[str, ...] = ()
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    sessions: SessionPolicy = field(default_factory=SessionPolicy)
    # Anonymous checks (/verify): stricter limits, few at a time, analyzed in a separate process.
    public_limits: Limits = field(
        default_factory=lambda: Limits(
            max_bytes=50 * 1024 * 1024,
            max_pixels=16_000_000,
            max_decoded_bytes=16_000_000 * 4,
            max_duration_s=600.0,
            max_decoded_frames=20_000,
            max_audio_samples=16_000 * 600,
        )
    )
    public_concurrency: int = 2
    mail: MailSettings = field(default_factory=MailSettings)
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    log_format: LogFormat | None = None  # json | text; None: text on a terminal, JSON otherwise
    # Operators, organization admins (and members of organizations that ask for it) must enrol a second
    # factor before their session can do anything else (``service.mfa``).
    enforce_mfa: bool = True
    # The Ed25519 key signing audit checkpoints, kept outside the database ("": data_dir/audit-signing.key).
    audit_key_file: str = ""
    audit_checkpoint_s: int = 300  # how often the worker signs the organizations' audit heads
    tiplines: TiplineSettings = field(default_factory=TiplineSettings)

    def __post_init__(self) -> None:
        EgressPolicy.parse(self.webhook_allowed_networks)  # a bad network fails at startup, not on a delivery

    @property
    def webhook_egress(self) -> EgressPolicy:
        return EgressPolicy.parse(self.webhook_allowed_networks)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'civicshield.db').resolve()}"

    @property
    def broker(self) -> str:
        return self.broker_url or f"sqla+sqlite:///{(self.data_dir / 'queue.db').resolve()}"

    @property
    def audit_key_path(self) -> Path:
        return Path(self.audit_key_file) if self.audit_key_file else self.data_dir / "audit-signing.key"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    def with_(self, **changes: object) -> ServiceSettings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ServiceSettings:
        env = dict(os.environ if environ is None else environ)
        analysis = AnalysisSettings.from_env(env)
        base = cls(data_dir=analysis.data_dir, analysis=analysis)
        key = env.get("CIVICSHIELD_SECRET_KEY") or _persistent_key(base.data_dir)
        return replace(
            base,
            database_url=env.get("CIVICSHIELD_DATABASE_URL", ""),
            broker_url=env.get("CIVICSHIELD_BROKER_URL", ""),
            base_url=env.get("CIVICSHIELD_BASE_URL", base.base_url),
            secret_key=key or base.secret_key,
            job_lease_s=_int(env, "CIVICSHIELD_JOB_LEASE_S", base.job_lease_s),
            key_cache_s=_int(env, "CIVICSHIELD_KEY_CACHE_S", base.key_cache_s),
            webhook_allowed_networks=split_networks(env.get("CIVICSHIELD_WEBHOOK_ALLOWED_NETWORKS", "")),
            audit_key_file=env.get("CIVICSHIELD_AUDIT_KEY_FILE", ""),
            log_format=_log_format(env.get("CIVICSHIELD_LOG_FORMAT", "")),
            retention=RetentionPolicy(
                public_submission_days=_int(env, "CIVICSHIELD_RETAIN_PUBLIC_DAYS", "30"),
                personal_data_days=_int(env, "CIVICSHIELD_RETAIN_PERSONAL_DAYS", "90"),
            ),
            mail=MailSettings(
                host=env.get("CIVICSHIELD_SMTP_HOST", ""),
                port=_int(env, "CIVICSHIELD_SMTP_PORT", "25"),
                sender=env.get("CIVICSHIELD_SMTP_FROM", MailSettings.sender),
                starttls=env.get("CIVICSHIELD_SMTP_STARTTLS", "") in {"1", "true", "yes"},
                username=env.get("CIVICSHIELD_SMTP_USER", ""),
                password=env.get("CIVICSHIELD_SMTP_PASSWORD", ""),
            ),
            public_concurrency=_int(env, "CIVICSHIELD_PUBLIC_CONCURRENCY", base.public_concurrency),
            tiplines=TiplineSettings.from_env(env),
            sessions=SessionPolicy(
                max_age_s=_int(env, "CIVICSHIELD_SESSION_MAX_AGE_S", base.sessions.max_age_s),
                idle_s=_int(env, "CIVICSHIELD_SESSION_IDLE_S", base.sessions.idle_s),
            ),
        )


def _int(env: dict[str, str], name: str, default: int | str, *, minimum: int = 0) -> int:
    """A whole number from the environment, or a ``ConfigurationError`` naming the variable (never a raw
    ``ValueError`` from deep inside start-up)."""
    text = str(env.get(name, "")).strip() or str(default)  # an empty variable is an unset one
    try:
        value = int(text)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {text!r}") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, not {value}")
    return value


def _log_format(text: str) -> LogFormat | None:
    if text in ("json", "text"):
        return text  # type: ignore[return-value]
    if text:
        raise ConfigurationError(f"CIVICSHIELD_LOG_FORMAT must be json or text, not {text!r}")
    return None


def split_networks(text: str) -> tuple[str, ...]:
    """``"10.0.0.0/8, ::1/128"`` as a tuple of its non-empty parts."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _persistent_key(data_dir: Path) -> str:
    """A random session key kept in the data directory, so logins survive restarts."""
    path = data_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key
