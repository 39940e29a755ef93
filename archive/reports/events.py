"""Audit event types of the reports."""

event_report_viewed = "report.viewed"
event_report_exported = "report.exported"  # as an Excel workbook
