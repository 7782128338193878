"""Health: `observatory status`, the health file `run` keeps fresh, and the checks behind both."""
