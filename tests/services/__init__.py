"""Small real services the live-probe tests and the demo incident run (127.0.0.1 only)."""
