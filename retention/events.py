"""Audit event types that retention records."""

event_schedule_changed = "retention.schedule_changed"  # before and after, and how many records it moved
event_trigger_recorded = "retention.trigger_recorded"  # a named event (account closed, ...) with its date
event_hold_placed = "retention.hold_placed"
event_hold_released = "retention.hold_released"
event_dispositions_computed = "retention.dispositions_computed"
event_appraisal_batch_opened = "retention.appraisal_batch_opened"
event_record_appraised = "retention.record_appraised"  # one appraiser's vote
event_appraisal_batch_approved = "retention.appraisal_batch_approved"
event_appraisal_batch_rejected = "retention.appraisal_batch_rejected"  # back to the group, with the comment
event_appraisal_batch_reminded = "retention.appraisal_batch_reminded"  # who was reminded, how long it waited
event_record_destroyed = "retention.record_destroyed"  # with its register entry
event_record_extended = "retention.record_extended"
event_destruction_skipped = "retention.destruction_skipped"  # a hold placed after approval won
event_register_exported = "retention.register_exported"
event_register_kept = "retention.register_kept"  # a sealed PDF snapshot of the register, with its SHA-256
event_register_snapshot_downloaded = "retention.register_snapshot_downloaded"
event_transfer_sent = "retention.transfer_sent"
event_transfer_received = "retention.transfer_received"
event_transfer_packaged = "retention.transfer_packaged"  # a handover package for another fonds was written
