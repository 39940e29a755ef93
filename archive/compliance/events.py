"""Audit event types of the compliance feature."""

event_audit_exported = "audit.exported"  # events written to a file, with the range and format
event_audit_verified = "audit.verified"  # a verification of the chain; outcome "failed" names the first problem
event_audit_proved = "audit.proved"  # an inclusion proof given for one event
event_audit_range_sealed = "audit.range_sealed"  # a range exported, verified and sealed for archiving
event_audit_alert_raised = "audit.alert_raised"  # the periodic scan found an anomaly (rule, subject)
event_audit_alert_acknowledged = "audit.alert_acknowledged"  # an auditor dealt with an alert, with a comment
event_fourcheck_completed = "fourcheck.completed"  # a four-property run, its scope and counts; "failed" when problems
event_fourcheck_report_exported = "fourcheck.report_exported"  # a run's report written as PDF or Excel
