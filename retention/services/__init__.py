"""Retention's use cases: schedules.py (schedules and trigger events), dispositions.py (computed
disposition dates, what is due), holds.py (legal holds and the guard that makes them bind)."""
