"""Borrowing's audit event types."""

from __future__ import annotations

event_borrow_requested = "borrow.requested"
event_borrow_decided = "borrow.decided"  # one approver's decision on a step, with the comment
event_borrow_escalated = "borrow.escalated"
event_borrow_granted = "borrow.granted"
event_borrow_ended = "borrow.ended"  # expired, returned or revoked
event_loan_lent = "borrow.original_lent"
event_loan_returned = "borrow.original_returned"
event_loan_reminded = "borrow.reminder_sent"
event_delegation_set = "borrow.delegation_set"
event_chain_changed = "borrow.chain_changed"
event_watermark_identified = "borrow.watermark_identified"
