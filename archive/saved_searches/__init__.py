"""Saved searches: a user's own named queries with their filters, run again from the home page or the API."""
