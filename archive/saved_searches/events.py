"""Audit event types of saved searches."""

event_saved_search_created = "saved_search.created"
event_saved_search_deleted = "saved_search.deleted"
