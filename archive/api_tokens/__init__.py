"""Personal API tokens: a user's named, scoped, expiring bearer tokens for /api/v1."""
