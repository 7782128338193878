"""Where a file sits: its community, its recorded path, and walking folders.

The first folder level under the inbox names the community. Paths are recorded
relative to the inbox (absolute for files ingested from elsewhere). File names are
bytes on Linux and need not be UTF-8; they are recorded with undecodable bytes shown
as `\\xNN` so the log (UTF-8 JSON) can always hold them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path


def safe_text(s: str) -> str:
    """A path string that is valid UTF-8: surrogate-escaped bytes become '\\xNN'."""
    return s.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def within(path: str, root: str) -> bool:
    """Is `path` `root` itself or below it (string paths, no resolving)."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A file to look at, with everything its events need to say where it came from."""

    path: Path
    root: Path  # symlinks are only followed within this folder
    rel: str  # recorded as original_path
    community: str
    parts: tuple[str, ...]  # components below the root, for the ignore rules

    @property
    def file_name(self) -> str:
        return safe_text(self.path.name)


def locate(path: str | os.PathLike[str], watch_dir: Path, default_community: str, *,
           base: Path | None = None, community: str | None = None) -> Candidate:
    """Describe `path` (not resolved: a symlink stays a symlink).

    Inside the inbox the first folder names the community; elsewhere `community` or the
    default applies and `base` (the folder the user named) bounds symlinks and ignore rules.
    """
    abspath = os.path.abspath(path)
    inbox = os.fspath(watch_dir)
    if within(abspath, inbox) and abspath != inbox:
        parts = tuple(Path(os.path.relpath(abspath, inbox)).parts)
        folder = safe_text(parts[0]) if len(parts) > 1 else default_community
        return Candidate(Path(abspath), watch_dir, safe_text("/".join(parts)), community or folder, parts)
    root = Path(os.path.abspath(base)) if base is not None else Path(abspath).parent
    parts = tuple(Path(os.path.relpath(abspath, root)).parts) if within(abspath, os.fspath(root)) else (Path(abspath).name,)
    return Candidate(Path(abspath), root, safe_text(abspath), community or default_community, parts)


def walk(folder: Path, prune: Callable[[Sequence[str]], bool] = lambda parts: False) -> Iterator[Path]:
    """Every non-folder entry below `folder`, sorted, without following folder symlinks.

    `prune(parts)` gets a folder's components relative to `folder`; True skips it.
    Unreadable folders are skipped (they cannot hold anything we could read).
    """
    stack: list[tuple[Path, tuple[str, ...]]] = [(folder, ())]
    while stack:
        here, parts = stack.pop()
        try:
            with os.scandir(here) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                sub = (*parts, entry.name)
                if not prune(sub):
                    subdirs.append((Path(entry.path), sub))
            else:
                yield Path(entry.path)
        stack.extend(reversed(subdirs))
