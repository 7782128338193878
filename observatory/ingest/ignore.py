"""Which inbox paths are sync/OS debris and never looked at.

Sync clients and operating systems litter a shared folder with partial downloads,
lock files and metadata. Rejecting those would spam the log, so they are skipped
silently. Rules apply to every component of the path relative to the inbox, so an
ignored folder hides everything below it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase

# Matched case-insensitively against each path component.
DEFAULT_PATTERNS: tuple[str, ...] = (
    ".*",  # dotfiles and dot-folders: .DS_Store, ._x, .syncthing.*, .stfolder, .stversions, .dropbox.cache, .x.icloud
    "*.tmp",
    "*.temp",
    "*.part",
    "*.partial",
    "*.crdownload",
    "*.download",
    "*.!sync",  # Resilio Sync
    "*.icloud",
    "*~",
    "~$*",
    "@eadir",  # Synology thumbnails
    "__macosx",
    "thumbs.db",
    "desktop.ini",
    "$recycle.bin",
    "#recycle",
)

# Names ignored only directly in the inbox: the data folder's own documentation.
TOP_LEVEL_NAMES: frozenset[str] = frozenset({"readme.md"})


def _matches(name: str, patterns: Iterable[str]) -> bool:
    low = name.lower()
    return any(fnmatchcase(low, p) for p in patterns)


class IgnoreRules:
    """Built-in debris patterns plus the user's `ignore_patterns` (globs)."""

    def __init__(self, user_patterns: Sequence[str] = ()) -> None:
        self.user = tuple(p.lower() for p in user_patterns)

    def ignored(self, parts: Sequence[str]) -> bool:
        """`parts`: the path's components relative to the inbox root (folders then file name)."""
        if not parts:
            return False
        if len(parts) == 1 and parts[0].lower() in TOP_LEVEL_NAMES:
            return True
        for name in parts:
            if _matches(name, DEFAULT_PATTERNS) or _matches(name, self.user):
                return True
        # User patterns may also name a path ("HEI/old/*").
        return bool(self.user) and _matches("/".join(parts), self.user)

    def ignored_dir(self, parts: Sequence[str]) -> bool:
        """Whether a folder (and so everything below it) is skipped while walking."""
        return bool(parts) and any(_matches(n, DEFAULT_PATTERNS) or _matches(n, self.user) for n in parts)
