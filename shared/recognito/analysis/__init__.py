"""Image analysis services: labels, text, moderation (request dict -> response dict)."""
