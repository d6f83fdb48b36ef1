"""The shop database's revisions, oldest first by number (0001 is today's schema)."""
