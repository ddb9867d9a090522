"""``recognito serve``: the local endpoint (Rekognition plus the AWS services behind it, on one port).

cli.py is the ``recognito`` command; server.py the WSGI app and its lifecycle; invoke.py runs an
operation's handler in-process (``implemented_operations()`` lists those that have one);
persistence.py keeps moto's state across restarts.
"""
