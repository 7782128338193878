"""Scheduled operations (rescan, staleness alert, retention, backup, nightly verify) run by APScheduler.

Import the pieces from their modules; this package import stays light because
`observatory.settings` uses `specs` to validate job schedules.
"""
