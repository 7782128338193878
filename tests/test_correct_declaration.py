"""`observatory correct` subcommands and batch-file commands come from one declaration (FIXES)."""

from __future__ import annotations

import click

from observatory.correct.commands import FIXES, OPTIONS, correct


def test_every_declared_fix_is_a_subcommand_whose_arguments_are_its_batch_keys() -> None:
    assert set(correct.commands) == set(FIXES) | {"apply"}
    for name, fix in FIXES.items():
        cmd = correct.commands[name]
        arguments = [p.name for p in cmd.params if isinstance(p, click.Argument)]
        options = [p.name for p in cmd.params if isinstance(p, click.Option)]
        assert arguments == list(fix.args), name
        assert options == [*fix.options, *(["dry_run"] if fix.dry_run else []), "reason", "actor"], name
        assert all(o in OPTIONS for o in fix.options)
        assert cmd.help == fix.help
