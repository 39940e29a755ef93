"""Security controls shared by every entry point: sessions, throttles, password policy, account changes.

`models.py` holds its tables, `events.py` its audit vocabulary; the services that use them live in
`archive/services/users.py` (accounts) and in the modules here.
"""
