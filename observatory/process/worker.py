"""What runs inside an OCR worker process.

Workers get one OpenMP thread each (Tesseract would otherwise fight the pool for the
cores) and return a `Reading` (the typed events of the result), which pickles without
any OCR type, so the daemon never imports the OCR code to receive it.
A worker whose daemon was killed exits within a second (`lifecycle.die_with_parent`).
"""

from __future__ import annotations

import os
import signal
import traceback

from ..child_env import allowed_env, restrict_own_env
from ..lifecycle import die_with_parent
from .reading import Reading


# Besides the runtime's variables: OpenMP and Tesseract settings, and the non-secret OBSERVATORY_*
# settings (the OCR reader). OpenAI calls run in the daemon, never here: a worker needs no secret.
WORKER_ENV = ("TESSDATA_PREFIX",)
WORKER_ENV_PREFIXES = ("OBSERVATORY_", "OMP_", "XDG_")


def init_worker(parent: int | None = None) -> None:
    """Prepare a pool worker; `parent` is the daemon's pid as the daemon saw it (see `die_with_parent`)."""
    os.environ["OMP_THREAD_LIMIT"] = "1"
    # Forked, a worker starts with the daemon's environment, secrets included; it and the
    # Tesseract processes it starts keep only what they need.
    restrict_own_env(allowed_env(os.environ, WORKER_ENV, WORKER_ENV_PREFIXES))
    # A forked worker inherits the daemon's SIGTERM handler, which only sets a flag in the
    # parent: restore the default so a service manager's SIGTERM ends it. Ctrl-C reaches
    # the whole process group; the daemon stops the pool itself.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent=parent)


def _failed(sha256: str, reader: str, kind: str | None, stage: str, reason: str) -> Reading:
    from ..extract import engine_version

    return Reading.failure(sha256, stage=stage, reason=reason, engine=reader, engine_version=engine_version(reader),
                           requested_kind=kind)


def run_extraction(sha256: str, image_path: str, kind: str | None = None, reader: str = "rapidocr") -> Reading:
    """Extract one image (as `kind`, when forced); never raises, so one bad screenshot cannot take down a batch."""
    from ..extract import ExtractionError, extract

    try:
        result = extract(image_path, kind=kind, reader=reader)
        return Reading.read(sha256, result.model_dump(mode="json"), kind)
    except ExtractionError as exc:
        return _failed(sha256, reader, kind, exc.stage, exc.reason)
    except FileNotFoundError:
        return _failed(sha256, reader, kind, "decode", f"blob missing: {image_path}")
    except Exception as exc:  # noqa: BLE001 - recorded as an ExtractionFailed event, with the cause
        return _failed(sha256, reader, kind, "internal", traceback.format_exception_only(type(exc), exc)[-1].strip())
