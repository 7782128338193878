"""The settings of the process that serves Datasette, so the web records corrections as the CLI does.

A correction made on the web is validated, appended (with the log's key) and projected with the
very settings `observatory run`/`serve` was started with. Datasette runs as a child process whose
environment is an allow-list without secrets, so the parent hands it these settings, the log key
included, on the child's standard input: never in its environment, a file, or Datasette's metadata.
Secrets the web has no use for (OpenAI key, webhook, password hashes) are left out.
"""

from __future__ import annotations

import json
from typing import Any

from ..settings import Settings, load_settings

_installed: Settings | None = None
# Secrets the web never needs; `ocr_engine` is left at its default since the web reads no image
# (`openai` would demand the OpenAI key, which stays out).
LEFT_OUT = {"openai_api_key", "alert_webhook_url", "web_password_hash", "web_users", "log_key", "ocr_engine"}


def install(settings: Settings) -> None:
    global _installed
    _installed = settings


def current() -> Settings:
    """The installed settings; in a Datasette started in-process (tests), those of the environment."""
    return _installed if _installed is not None else load_settings()


def for_child(settings: Settings) -> bytes:
    data: dict[str, Any] = settings.model_dump(mode="json", exclude=LEFT_OUT)
    if settings.log_key is not None:
        data["log_key"] = settings.log_key.get_secret_value()
    return json.dumps(data).encode("utf-8")


def from_parent(text: str) -> Settings:
    return Settings(_env_file=None, **json.loads(text))  # type: ignore[call-arg]
