"""Compliance: the audit trail's hash chain, signed checkpoints, offline verification and proofs.

`chainformat` and `signing` use only the standard library and cryptography (gmssl for SM2), so the
offline verifier (`verify`) runs without the archive's database, models or keys.
"""
