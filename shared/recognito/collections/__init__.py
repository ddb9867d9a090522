"""Face collections: create, describe, list, delete, and their tags."""
