"""Compliance: the tamper-evident audit trail (hash chain, signed checkpoints, offline verification),
the auditor's review desk and anomaly alerts, and the four-property checks 四性检测 (DA/T 70).

Empty for now. It will hold models.py, permissions.py, events.py, services.py, tasks.py (checkpoints,
alerts, periodic checks), views.py and feature.py; its commands go in archive/cli/audit.py.
"""
