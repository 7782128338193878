"""Online backups of the event log (SQLite's backup API) and restoring one."""
