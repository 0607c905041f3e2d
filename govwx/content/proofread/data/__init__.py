"""Word lists shipped with the checker (read as files, not imported)."""
