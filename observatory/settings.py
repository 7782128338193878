"""Settings: one validated object, read from OBSERVATORY_* env vars and `.env`.

Everything configurable lives here so that `observatory config` and the README's
settings table can list it all, and a bad value stops start-up with one clear line.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "OBSERVATORY_"


class SettingsError(Exception):
    """A setting is invalid; `str()` is the one-line message shown to the user."""


WEB_ROLES = ("analyst", "officer")
_WEB_USER_NAME = re.compile(r"^[A-Za-z0-9.@-]+$")


def password_hash(text: str) -> str:
    """`text` if it is a hash made by `observatory serve --hash-password`, else ValueError (never echoing it)."""
    parts = text.strip().split("$")
    if len(parts) != 4 or parts[0] != "pbkdf2_sha256" or not parts[1].isdigit() or not parts[2] or not parts[3]:
        raise ValueError("expected a pbkdf2_sha256$ITERATIONS$SALT$HASH string from `observatory serve --hash-password`")
    return "$".join(parts)


def parse_web_users(text: str) -> dict[str, tuple[str, str]]:
    """OBSERVATORY_WEB_USERS -> {user: (role, password hash)}; ValueError naming the bad entry, never a hash.

    Two spellings: a JSON object `{"mia": {"role": "officer", "password_hash": "pbkdf2_sha256$…"}}`,
    or `mia:officer:pbkdf2_sha256$…,tom:analyst:pbkdf2_sha256$…` (a hash holds no `:` or `,`).
    """
    text = text.strip()
    entries: list[tuple[str, Any, Any]] = []
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc.msg} at character {exc.pos})") from None
        for user, spec in data.items():
            if not isinstance(spec, dict):
                raise ValueError(f"user {user!r}: expected {{\"role\": …, \"password_hash\": …}}")
            entries.append((user, spec.get("role"), spec.get("password_hash")))
    else:
        for item in filter(None, (i.strip() for i in text.split(","))):
            parts = item.split(":", 2)
            if len(parts) != 3:
                raise ValueError(f"entry {parts[0]!r}: expected user:role:password_hash")
            entries.append((parts[0].strip(), parts[1].strip(), parts[2].strip()))
    out: dict[str, tuple[str, str]] = {}
    for user, role, digest in entries:
        if not isinstance(user, str) or not _WEB_USER_NAME.match(user):
            raise ValueError(f"user name {user!r}: use letters, digits, `.`, `@`, `-`")
        if user in out:
            raise ValueError(f"user {user!r} is given twice")
        if role not in WEB_ROLES:
            raise ValueError(f"user {user!r}: role {role!r} is not one of {', '.join(WEB_ROLES)}")
        try:
            out[user] = (role, password_hash(str(digest or "")))
        except ValueError as exc:
            raise ValueError(f"user {user!r}: {exc}") from None
    if not out:
        raise ValueError("no users given")
    return out


def redact_url(url: str) -> str:
    """`url` with its password replaced by ***, for messages and `observatory config`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def parse_blob_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` -> ("bucket", "some/prefix/"); ValueError saying what is expected."""
    scheme, sep, rest = url.partition("://")
    if scheme.lower() != "s3" or not sep:
        raise ValueError("expected s3://BUCKET[/PREFIX] (or unset, for the folder EVENTS_DIR/blobs)")
    bucket, _, prefix = rest.partition("/")
    if not _BUCKET.match(bucket):
        raise ValueError(f"bucket {bucket!r} is not an S3 bucket name (3-63 of a-z, 0-9, '.', '-')")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    # --- where things live -------------------------------------------------
    home: Path = Field(default_factory=Path.cwd, description="Folder under which watch_dir/, events/ and projections/ live.")
    watch_dir: Path | None = Field(None, description="The inbox watched for screenshots. Default: HOME/watch_dir.")
    events_dir: Path | None = Field(None, description="The event log and blob store. Default: HOME/events.")
    projections_dir: Path | None = Field(None, description="The read databases. Default: HOME/projections.")

    # --- ingest ------------------------------------------------------------
    packs_dir: Path | None = Field(None, description="Extra folder of game packs (<game>/pack.yaml + kinds/*.yaml), read at start-up beside the built-in ones.")
    default_community: str = Field("default", min_length=1, description="Community for files dropped directly in watch_dir/.")
    screenshot_timezone: str = Field("UTC", description="IANA time zone the screenshots' own timestamps are in.")
    stability_seconds: float = Field(2.0, ge=0, le=3600, description="Quiet time before a file counts as finished.")
    rescan_seconds: float = Field(300.0, gt=0, description="Interval of the periodic full rescan of watch_dir/.")
    polling: bool = Field(False, description="Use watchdog's polling observer instead of native file events.")
    ignore_patterns: list[str] = Field(default_factory=list, description="Extra glob patterns to ignore (JSON list).")
    max_file_bytes: int = Field(50 * 1024 * 1024, gt=0, description="Files larger than this are rejected.")
    max_image_pixels: int = Field(50_000_000, gt=0, description="Images with more pixels are rejected without decoding.")

    # --- extraction --------------------------------------------------------
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=64, description="OCR worker processes.")
    ocr_engine: Literal["rapidocr", "tesseract", "openai", "auto"] = Field(
        "rapidocr",
        description="rapidocr (PP-OCRv6, Tesseract as second reader); tesseract; openai (the vision model, the local "
        "reader as fallback); auto (local reader, OpenAI for low confidence).",
    )
    classify_threshold: float = Field(0.5, ge=0, le=1, description="Below this confidence a screen is `unknown`.")
    openai_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("OBSERVATORY_OPENAI_API_KEY", "OPENAI_API_KEY"),
        description="OpenAI key for the vision engine (also read from OPENAI_API_KEY). Secret.",
    )
    openai_model: str = Field("gpt-4o-mini", min_length=1, description="Vision model asked by the openai/auto engines.")
    openai_base_url: str | None = Field(None, pattern=r"^https?://\S+$", description="OpenAI-compatible API base URL (proxies, tests).")
    openai_rpm: int = Field(30, ge=1, le=100_000, description="Most OpenAI requests started in any 60 s, retries included.")
    openai_concurrency: int = Field(1, ge=1, le=32, description="Most OpenAI requests in flight at once.")
    openai_timeout_seconds: float = Field(60.0, gt=0, le=600, description="Timeout of one OpenAI request.")
    openai_max_retries: int = Field(4, ge=0, le=10, description="Retries of a failed OpenAI request before falling back to Tesseract.")
    auto_threshold: float = Field(0.6, ge=0, le=1, description="auto engine: OpenAI re-reads screenshots whose Tesseract confidence is below this.")
    local_ocr: bool = Field(
        True, description="`run`/`watch` OCR new screenshots themselves; false leaves OCR to `observatory worker` processes "
        "(on this or other machines) and only ingests, projects and serves.")
    claim_lease_seconds: float = Field(
        60.0, ge=1, le=3600,
        description="`observatory worker`: how long a claimed screenshot stays a worker's without renewal (renewed "
        "every third of it while read); a dead worker's claims pass to another after it.")

    # --- blobs ---------------------------------------------------------------
    blob_url: str | None = Field(
        None, description="Where screenshot blobs live: unset, the folder EVENTS_DIR/blobs (a shared mount works); "
        "`s3://bucket/prefix`, S3-compatible object storage through boto3 (`pip install '.[s3]'`; credentials and "
        "endpoint from the standard AWS_* variables).")

    @field_validator("blob_url")
    @classmethod
    def _blob_url(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        parse_blob_url(v.strip())
        return v.strip()

    # --- projections -------------------------------------------------------
    projection_batch_size: int = Field(5000, ge=1, description="Events applied per projection transaction.")
    hunt_window_minutes: float = Field(
        60.0, gt=0, le=24 * 60,
        description="Bear ranking screenshots of one trap this close in time belong to one hunt (minutes).")
    snapshot_window_minutes: float = Field(
        30.0, gt=0, le=24 * 60,
        description="Screenshots of one list this close in time are one capture session (roster, mail pages; minutes).")
    name_match_threshold: float = Field(
        85.0, ge=50, le=100, description="Fuzzy score (rapidfuzz ratio, 0-100) above which a new name joins a known player.")
    duplicate_player_threshold: float = Field(
        75.0, ge=50, le=100, description="Players whose names score this close are listed for review as likely duplicates.")
    review_confidence_below: float = Field(
        0.6, ge=0, le=1, description="OCR rows read with less confidence than this go to the review queue.")
    derivations_kept: int = Field(
        8, ge=0, le=1000,
        description="Communities whose derivation a process keeps in memory between settles, so a new screenshot "
        "costs what it touches; 0 derives a community in full at every settle.")

    # --- serving -----------------------------------------------------------
    web_user: str = Field("admin", pattern=r"^[A-Za-z0-9.@-]+$", description="User name of the Datasette login.")
    web_password_hash: SecretStr | None = Field(
        None,
        description="pbkdf2_sha256 hash of the Datasette login password (`observatory serve --hash-password`). "
        "Secret. When set, Datasette asks for a login; required to serve beyond localhost.",
    )
    web_users: SecretStr | None = Field(
        None,
        description="Logins with a role (`analyst` reads, `officer` also corrects): JSON "
        '{"mia": {"role": "officer", "password_hash": "pbkdf2_sha256$…"}} or `user:role:hash,…`. Secret.',
    )
    allow_sql: bool | None = Field(
        None, description="Let Datasette users run their own read-only SQL. Default: on for localhost, off beyond."
    )

    # --- operations ----------------------------------------------------------
    schedule_rescan: str = Field("auto", description="Rescan of watch_dir/: `auto` (every OBSERVATORY_RESCAN_SECONDS), `off`, `every 10m` or a cron line.")
    schedule_stale_check: str = Field("every 10m", description="Staleness check: `off`, `every <duration>` or a cron line (UTC).")
    schedule_retention: str = Field("every 1h", description="Retention of ingested originals in watch_dir/ (when OBSERVATORY_RETENTION is not keep).")
    schedule_backup: str = Field("0 3 * * *", description="Online backup of events.db into events/backups/: `off`, `every <duration>` or cron (UTC).")
    schedule_verify: str = Field("30 3 * * *", description="Hash-chain and projections check: `off`, `every <duration>` or cron (UTC).")
    stale_after: float = Field(86400.0, description="Warn (and alert) when nothing was ingested for this long: 24h, 90m, 2d or seconds.")
    alert_webhook_url: SecretStr | None = Field(None, description="Discord-compatible webhook POSTed when ingest goes stale. Secret.")
    retention: Literal["keep", "move", "delete"] = Field("keep", description="Originals in watch_dir/ after a successful ingest: keep, move to .processed/, or delete.")
    retention_days: float = Field(7.0, ge=0, le=36500, description="Days after ingest before `move`/`delete` retention touches an original.")
    backup_keep: int = Field(7, ge=1, le=10000, description="Backups kept in events/backups/ (the oldest beyond this are deleted).")
    health_seconds: float = Field(15.0, ge=1, le=3600, description="How often `run` rewrites projections/health.json.")

    # --- event log integrity -------------------------------------------------
    log_key: SecretStr | None = Field(
        None, description="Key of the log's keyed hash chain (HMAC-SHA256). Secret. Unset: the key file is used.")
    log_key_file: Path | None = Field(
        None, description="Key file, made with mode 0600 on first start when OBSERVATORY_LOG_KEY is unset. "
        "Default: EVENTS_DIR/log.key.")
    log_anchor_file: Path | None = Field(
        None, description="Where the last verified head of the log is kept. Default: EVENTS_DIR/anchor.json.")
    database_url: str | None = Field(
        None, description="The event log in PostgreSQL, shared by several machines: postgresql://user:password@host:port/db "
        "(its password is never shown). Unset: the SQLite file EVENTS_DIR/events.db.")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        v = v.strip()
        hint = "expected postgresql://user:password@host:port/database (unset: the SQLite log EVENTS_DIR/events.db)"
        if not v.lower().startswith(("postgresql://", "postgres://")):
            raise ValueError(hint)
        try:
            parts = urlsplit(v)
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError as exc:
            raise ValueError(f"{exc}; {hint}") from None
        if not parts.path.strip("/") and "dbname=" not in parts.query:
            raise ValueError(f"no database named; {hint}")
        return v

    @field_validator("log_key")
    @classmethod
    def _log_key_length(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None or not v.get_secret_value().strip():
            return None
        if len(v.get_secret_value().strip()) < 16:
            raise ValueError("a log key needs at least 16 characters (e.g. `openssl rand -hex 32`)")
        return v

    @field_validator("schedule_rescan", "schedule_stale_check", "schedule_retention", "schedule_backup", "schedule_verify")
    @classmethod
    def _schedule_spec(cls, v: str, info: ValidationInfo) -> str:
        from .durations import parse_spec

        parse_spec(v, auto_seconds=1.0 if info.field_name == "schedule_rescan" else None)
        return " ".join(v.split())

    @field_validator("stale_after", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> float:
        from .durations import parse_duration

        return parse_duration(v)

    @field_validator("alert_webhook_url")
    @classmethod
    def _webhook_url(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None or not v.get_secret_value().strip():
            return None
        if not v.get_secret_value().strip().lower().startswith(("http://", "https://")):
            raise ValueError("expected an http(s):// URL")
        return SecretStr(v.get_secret_value().strip())

    # --- logging -----------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Logging level.")

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.upper() if isinstance(v, str) else v

    @field_validator("openai_api_key")
    @classmethod
    def _key_for_openai(cls, v: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if v is not None and not v.get_secret_value().strip():
            v = None
        if v is None and info.data.get("ocr_engine") == "openai":
            raise ValueError("OBSERVATORY_OCR_ENGINE=openai needs a key: set OPENAI_API_KEY (or use the auto engine)")
        return v

    @field_validator("web_password_hash")
    @classmethod
    def _password_hash_format(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None or not v.get_secret_value().strip():
            return None
        return SecretStr(password_hash(v.get_secret_value()))

    @field_validator("web_users")
    @classmethod
    def _web_users_format(cls, v: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if v is None or not v.get_secret_value().strip():
            return None
        users = parse_web_users(v.get_secret_value())
        single = info.data.get("web_user")
        if info.data.get("web_password_hash") is not None and single in users:
            raise ValueError(f"user {single!r} is also OBSERVATORY_WEB_USER (with OBSERVATORY_WEB_PASSWORD_HASH); keep one")
        return v

    def web_logins(self) -> dict[str, tuple[str, str]]:
        """user -> (role, password hash): OBSERVATORY_WEB_USERS, plus the single OBSERVATORY_WEB_USER as an officer."""
        out = parse_web_users(self.web_users.get_secret_value()) if self.web_users is not None else {}
        if self.web_password_hash is not None:
            out[self.web_user] = ("officer", self.web_password_hash.get_secret_value())
        return out

    @field_validator("screenshot_timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {v!r} (e.g. UTC, Europe/Berlin)") from None
        return v

    @model_validator(mode="after")
    def _derive_dirs(self) -> "Settings":
        self.home = self.home.expanduser().resolve()
        defaults = {"watch_dir": "watch_dir", "events_dir": "events", "projections_dir": "projections"}
        for name, folder in defaults.items():
            value = getattr(self, name)
            path = self.home / folder if value is None else Path(value).expanduser()
            setattr(self, name, path.resolve())
        return self

    # Derived paths -----------------------------------------------------------
    @property
    def events_db(self) -> Path:
        return self.events_dir / "events.db"  # type: ignore[operator]

    @property
    def blobs_dir(self) -> Path:
        return self.events_dir / "blobs"  # type: ignore[operator]

    @property
    def log_key_path(self) -> Path:
        return Path(self.log_key_file).expanduser().resolve() if self.log_key_file else self.events_dir / "log.key"  # type: ignore[operator]

    @property
    def log_anchor_path(self) -> Path:
        return (Path(self.log_anchor_file).expanduser().resolve() if self.log_anchor_file
                else self.events_dir / "anchor.json")  # type: ignore[operator]

    @property
    def projections_db(self) -> Path:
        return self.projections_dir / "observatory.db"  # type: ignore[operator]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.screenshot_timezone)

    def redacted(self) -> dict[str, Any]:
        """Effective settings as plain values, secrets shown as '***' (or unset)."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name == "log_key":
                value = "set" if value is not None else "unset"
            elif name == "database_url" and value is not None:
                value = redact_url(value)
            elif isinstance(value, SecretStr):
                value = "***"
            elif isinstance(value, Path):
                value = str(value)
            out[name] = value
        return out


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning pydantic's report into one line naming the bad setting."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**clean)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = err.get("loc") or ("?",)
        field = str(loc[0])
        name = env_name(field) if field in Settings.model_fields else field
        value = err.get("input")
        secret = ("api_key" in field or field in ("log_key", "web_users", "database_url") or "password" in field
                  or "webhook" in field)
        shown = "" if secret else f" (got {value!r})"
        msg = err.get("msg", "invalid").removeprefix("Value error, ")
        raise SettingsError(f"invalid setting {name}: {msg}{shown}") from None
