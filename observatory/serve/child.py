"""`python -m observatory.serve.child serve ...` is `datasette serve ...` that exits with its parent.

`observatory run` and `serve` start Datasette through this module, so a server never
outlives a killed Observatory holding its port.
"""

from __future__ import annotations

from ..lifecycle import die_with_parent


def main() -> None:
    die_with_parent()
    from datasette.cli import cli

    cli(prog_name="datasette")


if __name__ == "__main__":
    main()
