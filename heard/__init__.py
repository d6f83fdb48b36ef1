"""What Heard's processes share: settings, input limits, formats, log redaction (stdlib only)."""
