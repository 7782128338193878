"""Scheduled operations (rescan, staleness alert, retention, backup, nightly verify) run by APScheduler."""
