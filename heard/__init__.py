"""What Heard's processes share: input limits, formats, log redaction (stdlib only)."""
