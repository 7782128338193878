"""Finds the game packs and validates them: a broken declaration stops start-up in one line.

A pack is a folder with `pack.yaml` and `kinds/*.yaml` (format: games/format.py, KINDS.md). The
line names the file, the kind and the key, so the person who edited the pack knows where to look.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from . import sources
from .format import KindDefinition, Pack

BUILTIN = Path(__file__).resolve().parent
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


class PackError(ValueError):
    """A pack that cannot be used; the message is one line naming the file, kind and field."""


def _where(path: Path) -> str:
    try:
        return str(path.relative_to(BUILTIN.parent.parent))
    except ValueError:
        return str(path)


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PackError(f"{_where(path)}: cannot read: {' '.join(str(exc).split())}") from None


def _first_error(exc: ValidationError) -> str:
    e = exc.errors()[0]
    loc = ".".join(str(x) for x in e["loc"]) or "(top)"
    return f"field {loc}: {e['msg']}"


def _expand(value: Any, patterns: dict[str, str], fail: Any) -> Any:
    """`{{NUM}}` in any string becomes the pack's NUM pattern, so kind files share regexes without repeating them."""
    if isinstance(value, str):
        def sub(m: re.Match[str]) -> str:
            if m.group(1) not in patterns:
                fail(f"unknown pattern {{{{{m.group(1)}}}}} (pack.yaml patterns: {', '.join(patterns) or 'none'})")
            return patterns[m.group(1)]
        return _PLACEHOLDER.sub(sub, value)
    if isinstance(value, list):
        return [_expand(v, patterns, fail) for v in value]
    if isinstance(value, dict):
        return {k: _expand(v, patterns, fail) for k, v in value.items()}
    return value


def _regexes(kind: KindDefinition) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for i, m in enumerate(kind.meta):
        out += [(f"meta.{i}.pattern", m.pattern), (f"meta.{i}.locate", m.locate), (f"meta.{i}.region_above", m.region_above)]
        out += [(f"meta.{i}.options.{k}", v) for k, v in m.options.items()]
    if kind.rows:
        for key in ("anchor", "start_after", "end_before", "unranked", "overlay"):
            out.append((f"rows.{key}", getattr(kind.rows, key)))
    out += [(f"layout_columns.{i}.pattern", c.pattern) for i, c in enumerate(kind.layout_columns)]
    for i, f in enumerate(kind.fields):
        out.append((f"fields.{i}.pattern", f.pattern))
        out += [(f"fields.{i}.suffix.pattern", f.suffix.pattern)] if f.suffix else []
        out += [(f"fields.{i}.options.{j}", rx) for j, (_, rx) in enumerate(f.options)]
    return out


def _check_kind(kind: KindDefinition, pack: Pack, fail: Any) -> None:
    for where, rx in _regexes(kind):
        if rx is None:
            continue
        try:
            re.compile(rx)
        except re.error as exc:
            fail(f"field {where}: bad regex: {exc}")
    for name in kind.row_fields():
        if name not in pack.fields:
            fail(f"row field {name!r} is not declared in pack.yaml fields")
    for name in kind.meta_fields():
        if name not in pack.fields:
            fail(f"meta field {name!r} is not declared in pack.yaml fields")
    rows = set(kind.row_fields())
    for i, c in enumerate(kind.checks):
        if c.field not in rows:
            fail(f"field checks.{i}.field: {c.field!r} is not a row field of this kind")
        if c.group is not None and c.group not in rows:
            fail(f"field checks.{i}.group: {c.group!r} is not a row field of this kind")
        metas = [c.meta] if c.group is None else [m for m in kind.meta_fields()
                                                   if re.fullmatch(re.escape(c.meta or "").replace(r"\{\}", r".+"), m)]
        if c.meta is not None and not any(m in kind.meta_fields() for m in metas):
            fail(f"field checks.{i}.meta: {c.meta!r} is not a meta field of this kind")
    rm = kind.read_model
    if rm is not None:
        for g in rm.group_by:
            if g not in kind.meta_fields():
                fail(f"field read_model.group_by: {g!r} is not a meta field of this kind")
        if rm.value is not None and rm.value not in rows:
            fail(f"field read_model.value: {rm.value!r} is not a row field of this kind")
        for f in rm.measures:
            if f not in rows:
                fail(f"field read_model.measures.{f}: not a row field of this kind")
        named = [("needs", f) for f in rm.needs] + [("entity", f) for f in rm.entity]
        named += [("vote.by", f) for f in (rm.vote.by if rm.vote else ())]
        for key, f in named:
            if f not in rows:
                fail(f"field read_model.{key}: {f!r} is not a row field of this kind")
        if rm.window.startswith("meta:") and rm.window[5:] not in kind.meta_fields():
            fail(f"field read_model.window: {rm.window[5:]!r} is not a meta field of this kind")
        if rm.shape in ("snapshot", "event"):
            if rm.table not in pack.tables:
                fail(f"field read_model.table: {rm.table!r} is not a table of pack.yaml tables")
            if rm.shape == "event" and rm.event not in pack.events:
                fail(f"field read_model.event: {rm.event!r} is not an event of pack.yaml events")
            if rm.shape == "snapshot" and not rm.players and not rm.entity:
                fail("field read_model.entity: a snapshot whose rows are not players names the fields that say "
                     "what a row is")
        elif rm.shape == "ranking" and rm.table in pack.tables:
            fail(f"field read_model.table: {rm.table!r} is a pack table; a ranking's entries table is its own")


def _check_tables(pack: Pack, kinds: list[KindDefinition], where: str) -> None:
    """The pack's tables and events against its fields and kinds; PackError naming the table and key."""
    def fail(msg: str) -> None:
        raise PackError(f"{where}: {msg}")

    for name, spec in pack.tables.items():
        for col, text in spec.columns.items():
            try:
                src = sources.parse(text)
            except ValueError as exc:
                fail(f"table {name}: field columns.{col}: {exc}")
            for f in src.fields:
                if f not in pack.fields:
                    fail(f"table {name}: field columns.{col}: {f!r} is not declared in pack.yaml fields")
            if src.op in ("count", "sum") and src.args[0] not in pack.tables:
                fail(f"table {name}: field columns.{col}: {src.args[0]!r} is not a table of this pack")
        for key, cols in [("key", spec.key)] + [(f"indexes.{i}", ix) for i, ix in enumerate(spec.indexes)]:
            for c in cols:
                if c not in spec.columns:
                    fail(f"table {name}: field {key}: {c!r} is not one of its columns")
    for name, ev in pack.events.items():
        if name not in pack.tables:
            fail(f"event {name}: it names no table of pack.yaml tables")
        mine = [k for k in kinds if k.read_model and k.read_model.event == name]
        for k in ev.dated_by:
            if k not in {m.name for m in mine}:
                fail(f"event {name}: field dated_by: {k!r} is not a kind of this event")
        metas = {f for k in mine for f in k.meta_fields()}
        for g in ev.group_by:
            if g not in metas:
                fail(f"event {name}: field group_by: {g!r} is not a meta field of its kinds")


def load_pack(folder: Path) -> Pack:
    """One pack, validated; PackError (one line) on the first problem."""
    head_path = folder / "pack.yaml"
    head = _read(head_path)
    if not isinstance(head, dict):
        raise PackError(f"{_where(head_path)}: expected a mapping with game, title, fields")
    try:
        pack = Pack.model_validate({**head, "kinds": [], "path": _where(folder)})
    except ValidationError as exc:
        raise PackError(f"{_where(head_path)}: {_first_error(exc)}") from None
    unknown = set(pack.datasette) - {"tables", "queries", "dashboards"}
    if unknown:
        raise PackError(f"{_where(head_path)}: field datasette.{sorted(unknown)[0]}: expected tables, queries or dashboards")
    kinds: list[KindDefinition] = []
    for path in sorted((folder / "kinds").glob("*.yaml")):
        data = _read(path)
        name = data.get("name", path.stem) if isinstance(data, dict) else path.stem

        def fail(msg: str, path: Path = path, name: Any = name) -> None:
            raise PackError(f"{_where(path)}: kind {name}: {msg}")

        if not isinstance(data, dict):
            fail("expected a mapping (name, phrases, rows, fields, ...)")
        data = _expand(data, pack.patterns, fail)
        try:
            kind = KindDefinition.model_validate({**data, "game": pack.game})
        except ValidationError as exc:
            fail(_first_error(exc))
        _check_kind(kind, pack, fail)
        kinds.append(kind)
    if not kinds:
        raise PackError(f"{_where(folder)}: pack {pack.game} declares no kinds (kinds/*.yaml)")
    _check_tables(pack, kinds, _where(head_path))
    return pack.model_copy(update={"kinds": kinds})


def discover(roots: list[Path] | None = None) -> list[Pack]:
    """Every pack under the given folders (default: the packs shipped with Observatory), in name order."""
    packs: list[Pack] = []
    seen: dict[str, str] = {}
    for root in roots or [BUILTIN]:
        if not root.is_dir():
            raise PackError(f"{root}: the packs folder does not exist (OBSERVATORY_PACKS_DIR)")
        for folder in sorted(p.parent for p in root.glob("*/pack.yaml")):
            pack = load_pack(folder)
            for k in pack.kinds:
                if k.name in seen:
                    raise PackError(f"{pack.path}/kinds/{k.name}.yaml: kind {k.name}: already declared by {seen[k.name]}")
                if k.name == "unknown":
                    raise PackError(f"{pack.path}: kind unknown: the name is reserved for screens no pack knows")
                seen[k.name] = pack.path
            packs.append(pack)
    return packs
