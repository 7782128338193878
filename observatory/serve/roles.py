"""Who may do what on the web: logins with a role, and who may record a correction.

`analyst` reads; `officer` reads and corrects. Each login's password hash reaches Datasette in
its environment (one variable per login), never in a file. Without any login configured the
server only listens on localhost (see config.auth_problem), and then a correction is accepted
only from a loopback client: whoever sits at the machine may already use the CLI.
"""

from __future__ import annotations

import getpass
import ipaddress
from typing import Any

from ..settings import Settings

OFFICER = "officer"
# The single login of OBSERVATORY_WEB_USER keeps the variable it always had; OBSERVATORY_WEB_USERS' logins get one each.
LEGACY_PASSWORD_ENV = "OBSERVATORY_WEB_PASSWORD_HASH"
USER_PASSWORD_ENV = "OBSERVATORY_WEB_USER_HASH_{}"


def password_envs(settings: Settings) -> dict[str, tuple[str, str]]:
    """user -> (environment variable that carries the hash to Datasette, the hash)."""
    out: dict[str, tuple[str, str]] = {}
    for n, (user, (_role, digest)) in enumerate(sorted(settings.web_logins().items())):
        single = settings.web_password_hash is not None and user == settings.web_user
        out[user] = (LEGACY_PASSWORD_ENV if single else USER_PASSWORD_ENV.format(n), digest)
    return out


def roles(settings: Settings) -> dict[str, str]:
    return {user: role for user, (role, _digest) in settings.web_logins().items()}


def is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def local_actor() -> str:
    """The actor of a correction made on localhost without a login: the server's OS user, as the CLI uses."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "localhost"


def writer(config: dict[str, Any] | None, actor: dict[str, Any] | None, client_host: str | None) -> str | None:
    """The name a correction is recorded under, or None when this visitor may not correct.

    With logins configured: a logged-in officer. Without: a visitor on a loopback address.
    """
    if config is None:
        return None
    if config.get("login"):
        uid = (actor or {}).get("id")
        return uid if isinstance(uid, str) and config.get("roles", {}).get(uid) == OFFICER else None
    return local_actor() if is_loopback(client_host) else None
