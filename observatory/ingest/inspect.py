"""Looking at one inbox file: is it a finished, sane image, and what is it?

Two steps so the caller can skip the expensive one: `read_file` takes a snapshot of
the bytes (refusing non-files, empty, oversized and unreadable files, and noticing a
file that changed while being read), `examine_image` recognises the content with
Pillow and decodes it fully, refusing bombs from the header alone.
Nothing here writes anywhere.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from .capture_time import parse_exif
from .paths import within

# Blob file extensions by Pillow format; anything else uses the lower-cased format name.
EXTENSIONS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "BMP": "bmp", "TIFF": "tiff"}


@dataclass(frozen=True, slots=True)
class Rejection:
    """A file that cannot be taken, with a machine code and a sentence for humans."""

    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The bytes of a file as they were while its size and mtime held still."""

    data: bytes
    sha256: str
    size: int
    mtime_ns: int
    fingerprint: str


@dataclass(frozen=True, slots=True)
class ReadResult:
    """Exactly one of snapshot / rejection is set, unless the file is `unstable` or `gone`."""

    fingerprint: str | None
    size: int | None
    snapshot: Snapshot | None = None
    rejection: Rejection | None = None
    unstable: bool = False
    gone: bool = False


@dataclass(frozen=True, slots=True)
class ImageFacts:
    format: str
    width: int
    height: int
    exif_time: datetime | None

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.format, self.format.lower())


def fingerprint(st: os.stat_result) -> str:
    """"size:mtime_ns": what tells a rejected file that changed since from one that did not."""
    return f"{st.st_size}:{st.st_mtime_ns}"


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    return "not a regular file"


def link_rejection(path: Path, root: Path) -> Rejection | None:
    """Why a symlink is not followed, or None when it leads to something inside `root`.

    A link to nothing is `broken_symlink` wherever it points (the user has to fix the link
    either way, and a dangling link reveals nothing outside the inbox); only a link to
    something that exists outside `root` is `symlink_outside`. Loops count as broken.
    """
    target = os.path.realpath(path)
    try:
        os.stat(path)  # follows the whole chain
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Rejection("broken_symlink", "a symbolic link that loops back on itself")
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return Rejection("broken_symlink", f"a symbolic link to {target}, which does not exist")
        # anything else (no permission to look): whether it exists is unknown, where it points decides
    if not within(target, os.path.realpath(root)):
        return Rejection("symlink_outside", f"a symbolic link to {target}, outside the inbox; links out are not followed")
    return None


def read_file(path: Path, *, root: Path, max_bytes: int) -> ReadResult:
    """Snapshot a file's bytes, or say why not. Never blocks on FIFOs, never follows a symlink out of `root`."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return ReadResult(None, None, gone=True)
    except OSError as exc:
        return ReadResult(None, None, rejection=Rejection("unreadable", f"cannot stat the file: {exc.strerror or exc}"))
    open_path = os.fspath(path)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    if stat.S_ISLNK(st.st_mode):
        why = link_rejection(path, root)
        if why is not None:
            return ReadResult(fingerprint(st), None, rejection=why)
        target = os.path.realpath(path)
        try:
            st = os.stat(target)
        except FileNotFoundError:  # the target went away since link_rejection looked
            return ReadResult(fingerprint(st), None, rejection=Rejection("broken_symlink", f"a symbolic link to {target}, which does not exist"))
        except OSError as exc:
            return ReadResult(fingerprint(st), None, rejection=Rejection("unreadable", f"cannot stat the link's target: {exc.strerror or exc}"))
        open_path = target
    fp = fingerprint(st)
    if stat.S_ISDIR(st.st_mode):
        return ReadResult(fp, None, gone=True)  # folders are walked, not read
    if not stat.S_ISREG(st.st_mode):
        return ReadResult(fp, None, rejection=Rejection("not_a_file", f"{_kind(st.st_mode)}, not an image file"))
    if st.st_size == 0:
        return ReadResult(fp, 0, rejection=Rejection("empty", "the file is empty (0 bytes)"))
    if st.st_size > max_bytes:
        return ReadResult(
            fp, st.st_size,
            rejection=Rejection("too_large", f"{st.st_size} bytes is above the limit of {max_bytes} (OBSERVATORY_MAX_FILE_BYTES)"),
        )
    try:
        fd = os.open(open_path, flags)
    except FileNotFoundError:
        return ReadResult(fp, st.st_size, gone=True)
    except PermissionError:
        return ReadResult(fp, st.st_size, rejection=Rejection("unreadable", "no permission to read the file"))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return ReadResult(fp, st.st_size, unstable=True)  # replaced by a link between lstat and open
        return ReadResult(fp, st.st_size, rejection=Rejection("unreadable", f"cannot open the file: {exc.strerror or exc}"))
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode) or fingerprint(before) != fp:
            return ReadResult(fp, st.st_size, unstable=True)
        chunks, total = [], 0
        while total <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        after = os.fstat(fd)
    except PermissionError:
        return ReadResult(fp, st.st_size, rejection=Rejection("unreadable", "no permission to read the file"))
    except OSError as exc:
        return ReadResult(fp, st.st_size, rejection=Rejection("unreadable", f"reading failed: {exc.strerror or exc}"))
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if fingerprint(after) != fp or len(data) != st.st_size:
        return ReadResult(fingerprint(after), after.st_size, unstable=True)  # still being written
    snap = Snapshot(data, hashlib.sha256(data).hexdigest(), st.st_size, st.st_mtime_ns, fp)
    return ReadResult(fp, st.st_size, snapshot=snap)


def _exif_time(img: Image.Image) -> datetime | None:
    try:
        exif = img.getexif()
        sub = exif.get_ifd(0x8769)
        return parse_exif(sub.get(0x9003) or exif.get(0x0132), sub.get(0x9011))
    except Exception:  # EXIF is a hint; a broken one never refuses an image
        return None


def examine_image(data: bytes, *, max_pixels: int) -> ImageFacts | Rejection:
    """Recognise the bytes as an image and decode them fully; bombs are refused from the header."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))  # lazy: reads the header only
    except Image.DecompressionBombError as exc:
        return Rejection("too_many_pixels", f"refused without decoding: {exc}")
    except UnidentifiedImageError:
        return Rejection("not_an_image", "the content is not an image format Pillow recognises")
    except Exception as exc:  # a broken header can raise almost anything
        return Rejection("corrupt", f"unreadable image header: {exc}")
    with img:
        width, height = img.size
        fmt = img.format or "unknown"
        if width <= 0 or height <= 0:
            return Rejection("corrupt", f"image header claims {width}x{height} pixels")
        if width * height > max_pixels:
            return Rejection(
                "too_many_pixels",
                f"{width}x{height} = {width * height} pixels is above {max_pixels} (OBSERVATORY_MAX_IMAGE_PIXELS); not decoded",
            )
        exif_time = _exif_time(img)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                img.load()
        except Exception as exc:  # truncated/corrupt data: OSError, SyntaxError, ValueError, zlib.error ...
            return Rejection("corrupt", f"the {fmt} image does not decode fully: {exc}")
    return ImageFacts(fmt, width, height, exif_time)
