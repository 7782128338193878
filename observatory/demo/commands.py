"""CLI: `observatory demo`: fill the inbox with generated screenshots of several kinds."""

from __future__ import annotations

import click

from ..cli_support import pass_ctx


@click.command()
@click.option("--community", default="DEMO", show_default=True, help="Community folder under watch_dir/.")
@click.option("--count", type=click.IntRange(1, 500), default=3, show_default=True, help="How many screenshots (kinds in turn).")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same images; change it for new players and numbers.")
@pass_ctx
def demo(obj, community: str, count: int, seed: int) -> None:  # type: ignore[no-untyped-def]
    """Write generated demo screenshots (bear damage, contribution, alliance members) into watch_dir/COMMUNITY/."""
    from ..ingest.paths import safe_text
    from .generate import generate

    if "/" in community or community.startswith(".") or not community.strip():
        raise click.BadParameter("a plain folder name, e.g. DEMO", param_hint="--community")
    folder = obj.settings.watch_dir / community
    try:
        shots = generate(folder, seed=seed, count=count)
    except RuntimeError as exc:  # a pack's drawing cannot run here (e.g. its font is not installed)
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(1) from None
    for s in shots:
        click.echo(f"  {safe_text(str(s.path))}  ({s.label['kind']}, {len(s.label['rows'])} rows)")
    click.echo(f"Wrote {len(shots)} demo screenshot(s) to {folder}. With `observatory run` going they show up in "
               "Datasette within a minute; otherwise run `observatory ingest " + str(folder) + "`.")
