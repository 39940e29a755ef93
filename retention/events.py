"""Audit event types that retention records."""

event_schedule_changed = "retention.schedule_changed"  # before and after, and how many records it moved
event_trigger_recorded = "retention.trigger_recorded"  # a named event (account closed, ...) with its date
event_hold_placed = "retention.hold_placed"
event_hold_released = "retention.hold_released"
event_dispositions_computed = "retention.dispositions_computed"
