"""Compliance: the tamper-evident audit trail (hash chain, signed checkpoints, offline verification and
proofs), the auditor's review desk and anomaly alerts; next, the four-property checks 四性检测 (DA/T 70).

`chainformat` and `signing` use only the standard library and cryptography (gmssl for SM2), so the
offline verifier (`verify`) runs without the archive's database, models or keys. Its commands are in
archive/cli/audit.py; `feature.py` is its registry entry.
"""
