"""What the built-in sandboxes share, so that each refuses exactly what the other does: not a
plugin (it registers nothing), a library both import."""
