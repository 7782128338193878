"""Health: the facts and checks behind `observatory status`, the health file `run` keeps fresh, the jobs' outcomes."""
