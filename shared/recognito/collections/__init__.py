"""Face collections over storage and search: collections and their tags, faces, users, and the
searches; built on ``recognito.faces``, never imported by it."""
