"""CLI: `observatory correct …` appends one CorrectionApplied per command; `observatory corrections` lists them."""

from __future__ import annotations

import getpass
import hashlib
import json
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Fix:
    """One kind of correction: its `observatory correct` subcommand and its batch-file `command:`, declared once.

    `args` are the positional CLI arguments and the batch keys, in the order `build` takes
    them (after the state); `options` are extra keywords `build` takes (keys of OPTIONS).
    With `pairs`, the last argument is FIELD=VALUE… on the command line and a mapping in a batch.
    """

    name: str
    build: Callable[..., Any]
    args: tuple[str, ...]
    help: str
    options: tuple[str, ...] = ()
    pairs: bool = False
    dry_run: bool = False


OPTIONS: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    "community": click.option("--community", help="The player's community, when the name exists in several."),
    "fields": click.option("--field", "fields", multiple=True,
                           help="Confirm only this doubtful field (repeat for several; default: every doubtful field)."),
    "screenshot_only": click.option("--screenshot-only", is_flag=True,
                                    help="Set only this screenshot's time (it is then regrouped), not its whole event's."),
}

FIXES: dict[str, Fix] = {f.name: f for f in (
    Fix("set-value", v.set_value, ("screenshot", "row", "field", "value"),
        "Set FIELD of ROW to VALUE (e.g. `set-value 3fa9c2 5 damage 3553763918`)."),
    Fix("confirm", v.confirm, ("screenshot", "row"),
        "The extractor marked ROW doubtful, and it is right as read: it counts from now on.",
        options=("fields",), dry_run=True),
    Fix("delete-row", v.delete_row, ("screenshot", "row"), "Remove a row that is not a real score."),
    Fix("add-row", v.add_row, ("screenshot", "values"),
        "Add a row OCR missed: FIELD=VALUE… (e.g. `add-row 3fa9c2 rank=5 name=jack275 damage=3553763918`).",
        pairs=True),
    Fix("reclassify", v.reclassify, ("screenshot", "kind"),
        "Say what kind of screen SCREENSHOT is; it is extracted again as that kind."),
    Fix("retract", v.retract, ("screenshot",), "Stop counting SCREENSHOT anywhere (it stays in the log)."),
    Fix("rename-player", v.rename_player, ("player", "name"), "Show PLAYER as NAME from now on.",
        options=("community",)),
    Fix("merge-players", v.merge_players, ("source", "target"),
        "SOURCE and TARGET are one person: SOURCE's names and scores become TARGET's.", options=("community",)),
    Fix("link-alias", v.link_alias, ("name", "player"), "Readings of NAME belong to PLAYER.", options=("community",)),
    Fix("unlink-alias", v.unlink_alias, ("name",),
        "NAME was matched to the wrong player: it stands for a player of its own.", options=("community",)),
    Fix("set-event-time", v.set_event_time, ("target", "time"),
        "Set when a hunt or foundry event (or a screenshot) happened; TIME in the screenshots' zone or with an offset.",
        options=("screenshot_only",)),
    Fix("note", v.note, ("target", "text"), "Attach a free-text note to a hunt, a foundry event or a screenshot."),
    Fix("revert", v.revert, ("correction",), "Undo CORRECTION (reverting a revert puts it back)."),
)}
OPTIONAL = set(OPTIONS)


@click.group()
def correct() -> None:
    """Fix what OCR or grouping got wrong, by appending a correction (never by editing).

    SCREENSHOT is a screenshot id (at least 6 hex digits). ROW is a rank (`5`, or the
    order on championship screens), `name:NAME`, or `meta` for the screen's own values.
    PLAYER is a player id (`p_…`) or a name the player was seen with.
    """


def _pairs(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in values:
        if "=" not in item:
            raise click.UsageError(f"{item!r}: give fields as FIELD=VALUE")
        k, val = item.split("=", 1)
        out[k.strip()] = val
    return out


def _subcommand(fix: Fix) -> click.Command:
    """The click command of `fix`: its arguments, its options, then --dry-run, --reason and --actor."""

    def run(obj: Any, reason: str, actor: str | None, dry_run: bool = False, **given: Any) -> None:
        args = [given[a] for a in fix.args]
        if fix.pairs:
            args[-1] = _pairs(args[-1])
        kwargs = {k: given[k] for k in fix.options}
        _append_one(obj, lambda s: fix.build(s, *args, **kwargs), reason, actor, dry_run=dry_run)

    fn: Callable[..., Any] = pass_ctx(run)
    fn = click.option("--actor", help="Who makes the correction (default: the login name).")(fn)
    fn = click.option("--reason", required=True, help="Why: kept in the log beside the correction.")(fn)
    if fix.dry_run:
        fn = click.option("--dry-run", is_flag=True, help="Validate and print the correction; append nothing.")(fn)
    for key in reversed(fix.options):
        fn = OPTIONS[key](fn)
    for i, name in reversed(list(enumerate(fix.args))):
        last_pairs = fix.pairs and i == len(fix.args) - 1
        fn = click.argument(name, nargs=-1 if last_pairs else 1, required=True)(fn)
    return click.command(fix.name, help=fix.help)(fn)


for _fix in FIXES.values():
    correct.add_command(_subcommand(_fix))


# --- batches -------------------------------------------------------------------------------------------


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
    if command not in FIXES:
        raise v.Invalid(f"{where}: `command` must be one of {', '.join(FIXES)} (got {command!r})")
    if not str(item.get("reason") or "").strip():
        raise v.Invalid(f"{where} ({command}): `reason` is required")
    fix = FIXES[command]
    fn, names = fix.build, fix.args
    known = set(names) | OPTIONAL | {"command", "reason", "actor"}
    extra = set(item) - known
    if extra:
        raise v.Invalid(f"{where} ({command}): unknown key(s) {', '.join(sorted(extra))}")
    missing = [k for k in names if item.get(k) in (None, "")]
    if missing:
        raise v.Invalid(f"{where} ({command}): missing {', '.join(missing)}")
    args = [item[k] if fix.pairs and k == names[-1] else str(item[k]) for k in names]
    if fix.pairs and not isinstance(item[names[-1]], dict):
        raise v.Invalid(f"{where} ({command}): `{names[-1]}` must be a mapping of field: value")
    kwargs = {}
    if "community" in item and "community" in fix.options:
        kwargs["community"] = item["community"]
    if item.get("screenshot_only") and "screenshot_only" in fix.options:
        kwargs["screenshot_only"] = True
    if "fields" in item and "fields" in fix.options:
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
