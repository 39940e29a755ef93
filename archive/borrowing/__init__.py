"""Borrowing 借阅: requests, approval chains by classification, time-boxed grants, physical loans,
watermarked copies and returns.

Empty for now. It will hold, side by side: models.py (requests, steps, grants, loans), permissions.py,
events.py, services.py, tasks.py (expiry, reminders), views.py and feature.py (its registry entry);
its commands go in archive/cli/borrow.py.
"""
