"""Audit event types of the account review."""

event_account_review_started = "account_review.started"
event_account_review_confirmed = "account_review.account_confirmed"  # the account keeps its access
event_account_review_disabled = "account_review.account_disabled"  # with user.deactivated beside it
event_account_review_signed_off = "account_review.signed_off"  # the whole record and its SHA-256
event_account_disabled_inactive = "account_review.disabled_inactive"  # by the daily job
event_accounts_listed = "account_review.accounts_listed"  # the unused or changed accounts were read
