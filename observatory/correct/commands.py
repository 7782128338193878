"""CLI: `observatory correct …` appends one CorrectionApplied per command; `observatory corrections` lists them."""

from __future__ import annotations

import getpass
import hashlib
import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..cli_support import open_store, pass_ctx
from ..eventlog import CorrectionApplied, Pending
from . import validate as v
from .state import correction_id

STREAM = "corrections"


def _state(obj: Any, store: Any) -> v.State:
    settings = obj.settings
    obj.project_now(settings, store)  # validate against everything the log holds now
    conn = sqlite3.connect(f"file:{settings.projections_db}?mode=ro", uri=True)
    return v.State(conn, settings.tz)


def _describe(c: Any) -> str:
    fields = c.model_dump(exclude={"kind"})
    return f"{c.kind} " + " ".join(f"{k}={json.dumps(val, ensure_ascii=False)}" for k, val in fields.items())


def _pending(c: Any, actor: str, reason: str, key: str | None = None) -> Pending:
    return Pending(CorrectionApplied(correction=c, actor=actor, reason=reason), STREAM, idempotency_key=key, actor=actor)


def _append_one(obj: Any, build: Callable[[v.State], Any], reason: str, actor: str | None, *,
                dry_run: bool = False) -> None:
    if not reason.strip():
        raise click.UsageError("--reason must say why")
    settings = obj.settings
    store = open_store(settings)
    try:
        state = _state(obj, store)
        try:
            fix = build(state)
        finally:
            state.conn.close()
    except v.Invalid as exc:
        click.echo(f"Error: {exc}. Nothing was recorded.", err=True)
        sys.exit(1)
    actor = actor or getpass.getuser()
    if dry_run:
        click.echo(f"Would record: {_describe(fix)} (actor {actor}, reason {reason.strip()!r}); "
                   "nothing recorded (--dry-run).")
        return
    (stored,) = store.append([_pending(fix, actor, reason.strip())])
    obj.project_now(settings, store)
    click.echo(f"Recorded correction {correction_id(stored.event_id)}: {_describe(fix)}")
    if fix.kind == "reclassify":
        click.echo("The screenshot is extracted again as that kind by the next `observatory process` "
                   "(or at once by a running `observatory run`).")


def correction_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--actor", help="Who makes the correction (default: the login name).")(fn)
    fn = click.option("--reason", required=True, help="Why: kept in the log beside the correction.")(fn)
    return fn


community_option = click.option("--community", help="The player's community, when the name exists in several.")


@click.group()
def correct() -> None:
    """Fix what OCR or grouping got wrong, by appending a correction (never by editing).

    SCREENSHOT is a screenshot id (at least 6 hex digits). ROW is a rank (`5`, or the
    order on championship screens), `name:NAME`, or `meta` for the screen's own values.
    PLAYER is a player id (`p_…`) or a name the player was seen with.
    """


@correct.command("set-value")
@click.argument("screenshot")
@click.argument("row")
@click.argument("field")
@click.argument("value")
@correction_options
@pass_ctx
def set_value(obj, screenshot, row, field, value, reason, actor) -> None:  # type: ignore[no-untyped-def]
    """Set FIELD of ROW to VALUE (e.g. `set-value 3fa9c2 5 damage 3553763918`)."""
    _append_one(obj, lambda s: v.set_value(s, screenshot, row, field, value), reason, actor)


@correct.command()
@click.argument("screenshot")
@click.argument("row")
@click.option("--field", "fields", multiple=True,
              help="Confirm only this doubtful field (repeat for several; default: every doubtful field).")
@click.option("--dry-run", is_flag=True, help="Validate and print the correction; append nothing.")
@correction_options
@pass_ctx
def confirm(obj, screenshot, row, fields, dry_run, reason, actor) -> None:  # type: ignore[no-untyped-def]
    """The extractor marked ROW doubtful, and it is right as read: it counts from now on."""
    _append_one(obj, lambda s: v.confirm(s, screenshot, row, fields), reason, actor, dry_run=dry_run)


@correct.command("delete-row")
@click.argument("screenshot")
@click.argument("row")
@correction_options
@pass_ctx
def delete_row(obj, screenshot, row, reason, actor) -> None:  # type: ignore[no-untyped-def]
    """Remove a row that is not a real score."""
    _append_one(obj, lambda s: v.delete_row(s, screenshot, row), reason, actor)


def _pairs(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in values:
        if "=" not in item:
            raise click.UsageError(f"{item!r}: give fields as FIELD=VALUE")
        k, val = item.split("=", 1)
        out[k.strip()] = val
    return out


@correct.command("add-row")
@click.argument("screenshot")
@click.argument("values", nargs=-1, required=True)
@correction_options
@pass_ctx
def add_row(obj, screenshot, values, reason, actor) -> None:  # type: ignore[no-untyped-def]
    """Add a row OCR missed: FIELD=VALUE… (e.g. `add-row 3fa9c2 rank=5 name=jack275 damage=3553763918`)."""
    pairs = _pairs(values)
    _append_one(obj, lambda s: v.add_row(s, screenshot, pairs), reason, actor)


@correct.command()
@click.argument("screenshot")
@click.argument("kind")
@correction_options
@pass_ctx
def reclassify(obj, screenshot, kind, reason, actor) -> None:  # type: ignore[no-untyped-def]
    """Say what kind of screen SCREENSHOT is; it is extracted again as that kind."""
    _append_one(obj, lambda s: v.reclassify(s, screenshot, kind), reason, actor)


@correct.command()
@click.argument("screenshot")
@correction_options
@pass_ctx
def retract(obj, screenshot, reason, actor) -> None:  # type: ignore[no-untyped-def]
    """Stop counting SCREENSHOT anywhere (it stays in the log)."""
    _append_one(obj, lambda s: v.retract(s, screenshot), reason, actor)


@correct.command("rename-player")
@click.argument("player")
@click.argument("name")
@community_option
@correction_options
@pass_ctx
def rename_player(obj, player, name, community, reason, actor) -> None:  # type: ignore[no-untyped-def]
    """Show PLAYER as NAME from now on."""
    _append_one(obj, lambda s: v.rename_player(s, player, name, community), reason, actor)


@correct.command("merge-players")
@click.argument("source")
@click.argument("target")
@community_option
@correction_options
@pass_ctx
def merge_players(obj, source, target, community, reason, actor) -> None:  # type: ignore[no-untyped-def]
    """SOURCE and TARGET are one person: SOURCE's names and scores become TARGET's."""
    _append_one(obj, lambda s: v.merge_players(s, source, target, community), reason, actor)


@correct.command("link-alias")
@click.argument("name")
@click.argument("player")
@community_option
@correction_options
@pass_ctx
def link_alias(obj, name, player, community, reason, actor) -> None:  # type: ignore[no-untyped-def]
    """Readings of NAME belong to PLAYER."""
    _append_one(obj, lambda s: v.link_alias(s, name, player, community), reason, actor)


@correct.command("unlink-alias")
@click.argument("name")
@community_option
@correction_options
@pass_ctx
def unlink_alias(obj, name, community, reason, actor) -> None:  # type: ignore[no-untyped-def]
    """NAME was matched to the wrong player: it stands for a player of its own."""
    _append_one(obj, lambda s: v.unlink_alias(s, name, community), reason, actor)


@correct.command("set-event-time")
@click.argument("target")
@click.argument("time")
@click.option("--screenshot-only", is_flag=True,
              help="Set only this screenshot's time (it is then regrouped), not its whole event's.")
@correction_options
@pass_ctx
def set_event_time(obj, target, time, screenshot_only, reason, actor) -> None:  # type: ignore[no-untyped-def]
    """Set when a hunt or foundry event (or a screenshot) happened; TIME in the screenshots' zone or with an offset."""
    _append_one(obj, lambda s: v.set_event_time(s, target, time, screenshot_only=screenshot_only), reason, actor)


@correct.command()
@click.argument("target")
@click.argument("text")
@correction_options
@pass_ctx
def note(obj, target, text, reason, actor) -> None:  # type: ignore[no-untyped-def]
    """Attach a free-text note to a hunt, a foundry event or a screenshot."""
    _append_one(obj, lambda s: v.note(s, target, text), reason, actor)


@correct.command()
@click.argument("correction")
@correction_options
@pass_ctx
def revert(obj, correction, reason, actor) -> None:  # type: ignore[no-untyped-def]
    """Undo CORRECTION (reverting a revert puts it back)."""
    _append_one(obj, lambda s: v.revert(s, correction), reason, actor)


# --- batches -------------------------------------------------------------------------------------------

BUILDERS: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
    "set-value": (v.set_value, ("screenshot", "row", "field", "value")),
    "confirm": (v.confirm, ("screenshot", "row")),
    "delete-row": (v.delete_row, ("screenshot", "row")),
    "add-row": (v.add_row, ("screenshot", "values")),
    "reclassify": (v.reclassify, ("screenshot", "kind")),
    "retract": (v.retract, ("screenshot",)),
    "rename-player": (v.rename_player, ("player", "name")),
    "merge-players": (v.merge_players, ("source", "target")),
    "link-alias": (v.link_alias, ("name", "player")),
    "unlink-alias": (v.unlink_alias, ("name",)),
    "set-event-time": (v.set_event_time, ("target", "time")),
    "note": (v.note, ("target", "text")),
    "revert": (v.revert, ("correction",)),
}
OPTIONAL = {"community", "screenshot_only", "fields"}


def _item_key(item: dict[str, Any]) -> str:
    canon = json.dumps(item, sort_keys=True, ensure_ascii=False, default=str)
    return "correction-file:" + hashlib.sha256(canon.encode()).hexdigest()


def parse_batch(text: str) -> list[dict[str, Any]]:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise v.Invalid(f"not valid YAML: {exc}") from None
    if isinstance(data, dict) and "corrections" in data:
        data = data["corrections"]
    if not isinstance(data, list) or not all(isinstance(i, dict) for i in data):
        raise v.Invalid("expected a list of corrections (mappings with `command:` and `reason:`)")
    return data


def build_item(state: v.State, n: int, item: dict[str, Any]) -> Any:
    where = f"item {n}"
    command = item.get("command")
    if command not in BUILDERS:
        raise v.Invalid(f"{where}: `command` must be one of {', '.join(BUILDERS)} (got {command!r})")
    if not str(item.get("reason") or "").strip():
        raise v.Invalid(f"{where} ({command}): `reason` is required")
    fn, names = BUILDERS[command]
    known = set(names) | OPTIONAL | {"command", "reason", "actor"}
    extra = set(item) - known
    if extra:
        raise v.Invalid(f"{where} ({command}): unknown key(s) {', '.join(sorted(extra))}")
    missing = [k for k in names if item.get(k) in (None, "")]
    if missing:
        raise v.Invalid(f"{where} ({command}): missing {', '.join(missing)}")
    args = [item[k] if k in ("values",) else str(item[k]) for k in names]
    if command == "add-row" and not isinstance(item["values"], dict):
        raise v.Invalid(f"{where} (add-row): `values` must be a mapping of field: value")
    kwargs = {}
    if "community" in item and command in ("rename-player", "merge-players", "link-alias", "unlink-alias"):
        kwargs["community"] = item["community"]
    if item.get("screenshot_only") and command == "set-event-time":
        kwargs["screenshot_only"] = True
    if "fields" in item and command == "confirm":
        fields = item["fields"]
        if isinstance(fields, str):
            fields = [fields]
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise v.Invalid(f"{where} (confirm): `fields` must be a field name or a list of them")
        kwargs["fields"] = fields
    try:
        return fn(state, *args, **kwargs)
    except v.Invalid as exc:
        raise v.Invalid(f"{where} ({command}): {exc}") from None


@correct.command("apply")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--actor", help="Who makes the corrections (default: the login name; an item's `actor:` wins).")
@click.option("--dry-run", is_flag=True, help="Validate only; append nothing.")
@pass_ctx
def apply_file(obj, file: Path, actor: str | None, dry_run: bool) -> None:  # type: ignore[no-untyped-def]
    """Apply a YAML list of corrections: all are validated before any is appended; re-applying changes nothing."""
    settings = obj.settings
    store = open_store(settings)
    default_actor = actor or getpass.getuser()
    try:
        items = parse_batch(file.read_text(encoding="utf-8"))
        state = _state(obj, store)
        try:
            todo, already = [], 0
            for n, item in enumerate(items, 1):
                key = _item_key(item)
                if store.find_key(key) is not None:
                    already += 1
                    continue
                todo.append(_pending(build_item(state, n, item), str(item.get("actor") or default_actor),
                                     str(item["reason"]).strip(), key))
        finally:
            state.conn.close()
    except v.Invalid as exc:
        click.echo(f"Error: {file}: {exc}. Nothing was recorded.", err=True)
        sys.exit(1)
    if dry_run:
        click.echo(f"{file}: {len(todo)} correction(s) valid, {already} already applied; nothing recorded (--dry-run).")
        return
    stored = store.append(todo)
    obj.project_now(settings, store)
    for ev in stored:
        click.echo(f"Recorded correction {correction_id(ev.event_id)}: {_describe(ev.event.correction)}")
    click.echo(f"{file}: {len(stored)} correction(s) recorded, {already} already applied.")


@click.command("corrections")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option("--community", help="Only this community's corrections.")
@pass_ctx
def corrections(obj, as_json: bool, community: str | None) -> None:  # type: ignore[no-untyped-def]
    """List every correction: id, when, who, what, why, and whether it is still in force."""
    settings = obj.settings
    store = open_store(settings)
    obj.project_now(settings, store)
    conn = sqlite3.connect(f"file:{settings.projections_db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    sql = "SELECT correction_id, recorded_at, actor, kind, community, target, status, reverted_by, reason, detail FROM corrections"
    params: list[Any] = []
    if community:
        sql += " WHERE community = ?"
        params.append(community)
    rows = [dict(r) for r in conn.execute(sql + " ORDER BY seq", params)]
    conn.close()
    if as_json:
        for r in rows:
            r["detail"] = json.loads(r["detail"])
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if not rows:
        click.echo("No corrections.")
        return
    for r in rows:
        state = r["status"] if r["status"] == "active" else f"reverted by {r['reverted_by']}"
        click.echo(f"{r['correction_id']}  {r['recorded_at'][:19]}  {r['actor']:<10} {r['kind']:<15} "
                   f"{(r['target'] or '')[:16]:<16} {state:<24} {r['reason']}")
