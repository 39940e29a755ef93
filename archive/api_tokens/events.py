"""Audit event types of personal API tokens."""

event_api_token_created = "api_token.created"
event_api_token_revoked = "api_token.revoked"
event_api_token_refused = "api_token.refused"  # an unknown, expired or revoked token was presented
