"""Audit event types of the security controls."""

event_user_password_changed = "user.password_changed"
event_user_password_reset = "user.password_reset"  # an administrator set a one-time password
event_user_throttled = "user.throttled"  # failed logins reached the point where delays begin
event_user_unlocked = "user.unlocked"
event_user_deactivated = "user.deactivated"
event_user_sessions_ended = "user.sessions_ended"
event_account_change_requested = "user.change_requested"
event_account_change_approved = "user.change_approved"
event_account_change_rejected = "user.change_rejected"
event_identifier_lookup = "documents.identifier_lookup"  # an exact ID/phone lookup, as a keyed hash
event_identifier_lookup_refused = "documents.identifier_lookup_refused"
event_rate_limited = "security.rate_limited"
event_user_token_issued = "user.token_issued"  # a personal token for the command line
event_user_totp_enabled = "user.totp_enabled"
event_unlock_requested = "user.unlock_requested"  # someone asked for an unlock link (sent or not)
