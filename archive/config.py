"""Configuration from environment variables: one frozen Settings object, validated up front."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from archive.errors import ConfigurationError

CIPHERS = ("AES-256-GCM", "SM4-GCM")
AUDIT_SIGNING = ("ed25519", "sm2")


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    storage: str  # filesystem | s3
    storage_path: Path
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    s3_bucket: str
    s3_secure: bool
    cipher: str
    search: str  # tantivy | elasticsearch
    index_path: Path
    elasticsearch_url: str
    queue: str  # sqlite | redis
    queue_path: Path
    redis_url: str
    key_file: Path
    master_keys: str  # from ARCHIVE_MASTER_KEYS; empty means use key_file
    lookup_key: str
    secret_key_file: Path
    ocr_languages: str
    rescan_threshold: float
    fonds: str
    max_upload_mb: int
    lockout_attempts: int
    lockout_minutes: int
    # Security controls (issue 10); defaults keep Settings constructible without them.
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    secure_cookies: bool = False
    max_image_megapixels: int = 100
    upload_rate_per_hour: int = 600
    lookup_rate_per_hour: int = 30
    cli_trusted: bool = False
    # Mail (self-service unlock by e-mail; off while smtp_host is empty) and the archive's address for links.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "archive@localhost"
    public_url: str = "http://127.0.0.1:8000"
    migration_database_url: str = ""  # the owner role's URL for migrations; empty: database_url
    database_app_role: str = ""  # PostgreSQL role the app connects as (granted INSERT/SELECT on audit_event)
    totp_required_roles: tuple[str, ...] = ()  # roles that must enrol a TOTP second factor before acting
    # The audit trail's checkpoint signer (archive/compliance): algorithm, key file, signing interval.
    audit_signing: str = "ed25519"
    audit_signing_key_file: Path = Path("audit-signing.json")
    audit_checkpoint_minutes: int = 15
    audit_alert_rules: Path | None = None  # JSON overriding archive/compliance/alerts.py's default rules
    # Borrowing (archive/borrowing): the longest period, when a step with no approver escalates, how many
    # days before a loan's due date the reminder goes, and whether search shows metadata-only hits.
    borrow_max_days: int = 30
    borrow_escalate_hours: int = 24
    borrow_reminder_days: int = 3
    borrow_discovery: bool = False
    # Retention: an appraisal batch waiting longer than this many days for its appraisers or its leader
    # gets a daily reminder.
    appraisal_remind_days: int = 7
    # clamd for the four-property check's virus scan: "unix:/path", "/path", "tcp://host:port" or
    # "host:port"; empty: no virus scan.
    clamd: str = ""
    # The account review (archive/account_review): disable accounts unused this many days (0: never).
    account_inactive_days: int = 0

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name, default).strip()
    if value not in allowed:
        raise ConfigurationError(f"{name}={value!r} is not one of {', '.join(allowed)}")
    return value


def _number(env: Mapping[str, str], name: str, default: str, kind: type[int] | type[float]) -> int | float:
    raw = env.get(name, default).strip()
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a number") from None
    if value < 0:
        raise ConfigurationError(f"{name}={raw!r} must not be negative")
    return value


def _percentage(env: Mapping[str, str], name: str, default: str) -> float:
    """A mean OCR confidence, 0-100: pages read with less are flagged "rescan needed"."""
    value = float(_number(env, name, default, float))
    if value > 100:
        raise ConfigurationError(f"{name}={env.get(name, default).strip()!r} must be between 0 and 100")
    return value


def _required(env: Mapping[str, str], name: str, when: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"{name} is required when {when}")
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read ARCHIVE_* variables; raise ConfigurationError naming the first bad one."""
    env = os.environ if env is None else env
    raw_home = env.get("ARCHIVE_HOME", "").strip() or str(Path.home() / ".customer-archive")
    home = Path(raw_home).expanduser().absolute()
    storage = _choice(env, "ARCHIVE_STORAGE", "filesystem", ("filesystem", "s3"))
    search = _choice(env, "ARCHIVE_SEARCH", "tantivy", ("tantivy", "elasticsearch"))
    queue = _choice(env, "ARCHIVE_QUEUE", "sqlite", ("sqlite", "redis"))
    database_url = env.get("ARCHIVE_DATABASE_URL", "").strip() or f"sqlite:///{home / 'archive.db'}"
    if not database_url.startswith(("sqlite", "postgresql")):
        raise ConfigurationError(f"ARCHIVE_DATABASE_URL={database_url!r} must be a sqlite:// or postgresql:// URL")
    master_keys = env.get("ARCHIVE_MASTER_KEYS", "").strip()
    lookup_key = env.get("ARCHIVE_LOOKUP_KEY", "").strip()
    if master_keys and not lookup_key:
        raise ConfigurationError("ARCHIVE_LOOKUP_KEY is required when ARCHIVE_MASTER_KEYS is set")
    return Settings(
        home=home,
        database_url=database_url,
        storage=storage,
        storage_path=Path(env.get("ARCHIVE_STORAGE_PATH", "") or home / "objects"),
        s3_endpoint=_required(env, "ARCHIVE_S3_ENDPOINT", "ARCHIVE_STORAGE=s3") if storage == "s3" else "",
        s3_access_key=env.get("ARCHIVE_S3_ACCESS_KEY", ""),
        s3_secret_key=env.get("ARCHIVE_S3_SECRET_KEY", ""),
        s3_bucket=env.get("ARCHIVE_S3_BUCKET", "archive"),
        s3_secure=_choice(env, "ARCHIVE_S3_SECURE", "false", ("true", "false")) == "true",
        cipher=_choice(env, "ARCHIVE_CIPHER", "AES-256-GCM", CIPHERS),
        search=search,
        index_path=Path(env.get("ARCHIVE_INDEX_PATH", "") or home / "index"),
        elasticsearch_url=(
            _required(env, "ARCHIVE_ELASTICSEARCH_URL", "ARCHIVE_SEARCH=elasticsearch")
            if search == "elasticsearch"
            else ""
        ),
        queue=queue,
        queue_path=Path(env.get("ARCHIVE_QUEUE_PATH", "") or home / "queue.db"),
        redis_url=_required(env, "ARCHIVE_REDIS_URL", "ARCHIVE_QUEUE=redis") if queue == "redis" else "",
        key_file=Path(env.get("ARCHIVE_KEY_FILE", "") or home / "keys" / "master.json"),
        master_keys=master_keys,
        lookup_key=lookup_key,
        secret_key_file=Path(env.get("ARCHIVE_SECRET_KEY_FILE", "") or home / "keys" / "web-secret"),
        ocr_languages=env.get("ARCHIVE_OCR_LANGUAGES", "chi_sim+eng").strip() or "chi_sim+eng",
        rescan_threshold=_percentage(env, "ARCHIVE_RESCAN_THRESHOLD", "60"),
        fonds=env.get("ARCHIVE_FONDS", "Z001").strip() or "Z001",
        max_upload_mb=int(_number(env, "ARCHIVE_MAX_UPLOAD_MB", "512", int)),
        lockout_attempts=int(_number(env, "ARCHIVE_LOCKOUT_ATTEMPTS", "5", int)),
        lockout_minutes=int(_number(env, "ARCHIVE_LOCKOUT_MINUTES", "15", int)),
        session_idle_minutes=_positive(env, "ARCHIVE_SESSION_IDLE_MINUTES", "30"),
        session_absolute_hours=_positive(env, "ARCHIVE_SESSION_ABSOLUTE_HOURS", "12"),
        secure_cookies=_choice(env, "ARCHIVE_SECURE_COOKIES", "false", ("true", "false")) == "true",
        max_image_megapixels=_positive(env, "ARCHIVE_MAX_IMAGE_MEGAPIXELS", "100", most=120),  # 120: the decoder's own bound
        upload_rate_per_hour=_positive(env, "ARCHIVE_UPLOAD_RATE_PER_HOUR", "600"),
        lookup_rate_per_hour=_positive(env, "ARCHIVE_LOOKUP_RATE_PER_HOUR", "30"),
        cli_trusted=_choice(env, "ARCHIVE_CLI_TRUSTED", "0", ("0", "1")) == "1",
        smtp_host=env.get("ARCHIVE_SMTP_HOST", "").strip(),
        smtp_port=_positive(env, "ARCHIVE_SMTP_PORT", "25", most=65535),
        smtp_from=env.get("ARCHIVE_SMTP_FROM", "").strip() or "archive@localhost",
        public_url=(env.get("ARCHIVE_PUBLIC_URL", "").strip() or "http://127.0.0.1:8000").rstrip("/"),
        migration_database_url=env.get("ARCHIVE_MIGRATION_DATABASE_URL", "").strip(),
        database_app_role=env.get("ARCHIVE_DATABASE_APP_ROLE", "").strip(),
        totp_required_roles=tuple(r.strip() for r in env.get("ARCHIVE_TOTP_REQUIRED_ROLES", "").split(",")
                                  if r.strip()),
        audit_signing=_choice(env, "ARCHIVE_AUDIT_SIGNING", "ed25519", AUDIT_SIGNING),
        audit_signing_key_file=Path(env.get("ARCHIVE_AUDIT_SIGNING_KEY_FILE", "")
                                    or home / "keys" / "audit-signing.json"),
        audit_checkpoint_minutes=max(1, int(_number(env, "ARCHIVE_AUDIT_CHECKPOINT_MINUTES", "15", int))),
        audit_alert_rules=Path(env.get("ARCHIVE_AUDIT_ALERT_RULES", "") or home / "audit-alert-rules.json"),
        borrow_max_days=_positive(env, "ARCHIVE_BORROW_MAX_DAYS", "30", most=3650),
        borrow_escalate_hours=_positive(env, "ARCHIVE_BORROW_ESCALATE_HOURS", "24"),
        borrow_reminder_days=_positive(env, "ARCHIVE_BORROW_REMINDER_DAYS", "3"),
        borrow_discovery=_choice(env, "ARCHIVE_BORROW_DISCOVERY", "false", ("true", "false")) == "true",
        appraisal_remind_days=_positive(env, "ARCHIVE_APPRAISAL_REMIND_DAYS", "7"),
        clamd=env.get("ARCHIVE_CLAMD", "").strip(),
        account_inactive_days=int(_number(env, "ARCHIVE_ACCOUNT_INACTIVE_DAYS", "0", int)),
    )


def _positive(env: Mapping[str, str], name: str, default: str, *, most: int | None = None) -> int:
    value = int(_number(env, name, default, int))
    if value == 0:
        raise ConfigurationError(f"{name}=0 must be at least 1")
    if most is not None and value > most:
        raise ConfigurationError(f"{name}={value} must be at most {most}")
    return value
