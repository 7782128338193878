"""Datasette's configuration: `datasette-metadata.yml` plus what depends on the settings.

The yml holds everything static (descriptions, facets, canned queries, charts, and a
`settings:` block, since Datasette 0.65 takes settings on the command line, not in
metadata). What depends on where and how we serve (login, SQL on/off, the blob folder)
is added here, so the test client and the real server run the very same configuration.
The password hash never lands in a file: the plugin config points at an env var.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..settings import Settings
from .pack_metadata import with_packs
from .roles import LEGACY_PASSWORD_ENV, is_loopback, password_envs, roles

DATABASE = "observatory"
PASSWORD_ENV = LEGACY_PASSWORD_ENV
SOURCE_ROOT = Path(__file__).resolve().parents[2]
METADATA_FILE = "datasette-metadata.yml"


def find_metadata(settings: Settings) -> Path | None:
    """`datasette-metadata.yml` from OBSERVATORY_HOME, else from the source checkout."""
    for folder in (settings.home, SOURCE_ROOT):
        candidate = folder / METADATA_FILE
        if candidate.is_file():
            return candidate
    return None


def auth_problem(settings: Settings, host: str) -> str | None:
    """Why we must not serve on `host` with these settings, or None."""
    if is_loopback(host) or settings.web_logins():
        return None
    return (
        f"refusing to serve on {host}: binding beyond localhost needs authentication; set OBSERVATORY_WEB_USERS "
        f"or {PASSWORD_ENV} (make a hash with `observatory serve --hash-password`)"
    )


@dataclass(frozen=True)
class DatasetteConfig:
    metadata: dict[str, Any]
    settings: dict[str, Any]

    def setting_flags(self) -> list[str]:
        """`--setting NAME VALUE` pairs for `datasette serve`."""
        flags: list[str] = []
        for name, value in self.settings.items():
            text = ("on" if value else "off") if isinstance(value, bool) else str(value)
            flags += ["--setting", name, text]
        return flags


def load_yml(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data


def build_config(base: dict[str, Any], settings: Settings, host: str) -> DatasetteConfig:
    """The effective metadata and Datasette settings for serving on `host`."""
    meta = with_packs(base, DATABASE)
    ds_settings = dict(meta.pop("settings", None) or {})
    plugins = meta.setdefault("plugins", {})
    plugins["observatory"] = {"events_dir": str(settings.events_dir), "database": DATABASE}
    logins = password_envs(settings)
    if logins:
        plugins["datasette-auth-passwords"] = {f"{user}_password_hash": {"$env": env} for user, (env, _) in logins.items()}
        meta["allow"] = {"id": sorted(logins)}
        plugins["observatory"]["login"] = True
        plugins["observatory"]["roles"] = roles(settings)
    allow_sql = settings.allow_sql if settings.allow_sql is not None else is_loopback(host)
    if not allow_sql:
        meta["allow_sql"] = False
    elif logins:
        meta["allow_sql"] = {"id": sorted(logins)}
    return DatasetteConfig(meta, ds_settings)


def config_for(settings: Settings, host: str) -> DatasetteConfig:
    return build_config(load_yml(find_metadata(settings)), settings, host)
