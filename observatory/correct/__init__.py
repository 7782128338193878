"""Corrections: admins fix readings, identities and grouping by appending `CorrectionApplied`.

Nothing is edited in place: the projections apply the corrections in force on every
rebuild, so a fix survives `replay` and `reprocess`, and `revert` undoes one.
"""
