"""The viewer endpoint: join, heartbeat and leave, with rate limits and group commit."""
