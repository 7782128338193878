"""What a child process may see of Observatory's environment: an allow-list, and never a secret.

Datasette and the OCR workers need none of the OpenAI key, the webhook URL or the log key.
An allow-list (rather than removing the secrets we know of) also keeps out whatever else the
user's shell holds. Secrets are the settings typed `SecretStr` (and their aliases, such as
`OPENAI_API_KEY`), so a new secret setting is kept out without touching this module.
"""

from __future__ import annotations

import os
import typing
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

from pydantic import AliasChoices, SecretStr

from .settings import Settings, env_name

# What any Python program needs to run as the user configured it: where programs are, home,
# locale and time zone, temporary files, and how this Python finds its packages.
RUNTIME = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP",
    "PYTHONPATH", "PYTHONHOME", "PYTHONIOENCODING", "PYTHONUTF8", "PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV",
})
RUNTIME_PREFIXES = ("LC_",)


@cache
def secret_names() -> frozenset[str]:
    """Upper-case names of every environment variable a secret setting is read from."""
    names: set[str] = set()
    for field_name, field in Settings.model_fields.items():
        annotation = field.annotation
        if annotation is not SecretStr and SecretStr not in typing.get_args(annotation):
            continue
        names.add(env_name(field_name).upper())
        alias = field.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias] if alias else []
        names.update(c.upper() for c in choices if isinstance(c, str))
    return frozenset(names)


def allowed_env(environ: Mapping[str, str], names: Iterable[str] = (), prefixes: tuple[str, ...] = ()) -> dict[str, str]:
    """The part of `environ` a child may have: the runtime's variables plus `names` and `prefixes`, no secrets."""
    keep = RUNTIME | set(names)
    starts = RUNTIME_PREFIXES + prefixes
    secrets = secret_names()
    return {k: v for k, v in environ.items()
            if k.upper() not in secrets and (k in keep or k.upper().startswith(starts))}


def restrict_own_env(keep: Mapping[str, str]) -> None:
    """Reduce this (forked) process's environment to `keep`, also as /proc/<pid>/environ shows it.

    A forked child starts with its parent's environment block, which /proc/<pid>/environ
    reads from memory; removing a variable only unlinks it, so the dropped entries are
    overwritten there too. Where /proc is missing or not writable only os.environ is reduced.
    """
    dropped = {k for k in os.environ if k not in keep}
    for k in dropped:
        del os.environ[k]
    for k, v in keep.items():
        if os.environ.get(k) != v:
            os.environ[k] = v
    try:
        after_comm = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        start, end = int(after_comm[47]), int(after_comm[48])  # fields 50 and 51: env_start, env_end
        with open("/proc/self/mem", "r+b", buffering=0) as mem:
            mem.seek(start)
            block = mem.read(end - start)
            offset = 0
            for entry in block.split(b"\0"):
                if entry.split(b"=", 1)[0].decode(errors="replace") in dropped:
                    mem.seek(start + offset)
                    mem.write(b"\0" * len(entry))
                offset += len(entry) + 1
    except (OSError, IndexError, ValueError):
        pass
