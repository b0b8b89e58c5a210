"""Server-Sent Events: the per-worker fan-out hub and the `text/event-stream` response."""
