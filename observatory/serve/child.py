"""`python -m observatory.serve.child serve ...` is `datasette serve ...` that exits with its parent.

`observatory run` and `serve` start Datasette through this module, so a server never
outlives a killed Observatory holding its port. The parent writes its settings (runtime.for_child)
to our standard input, which we read to the end before Datasette starts.
"""

from __future__ import annotations

import os
import sys

from ..lifecycle import die_with_parent
from . import runtime


def main() -> None:
    die_with_parent()
    if not sys.stdin.isatty():
        text = sys.stdin.read()
        if text.strip():
            settings = runtime.from_parent(text)
            runtime.install(settings)
            if settings.packs_dir is not None:  # the games package reads it from the environment
                os.environ["OBSERVATORY_PACKS_DIR"] = str(settings.packs_dir)
    from datasette.cli import cli

    cli(prog_name="datasette")


if __name__ == "__main__":
    main()
