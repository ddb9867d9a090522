"""Stored video analysis: the Start*/Get* job operations and the Step Functions workers behind them.

- ``jobs``: the job record, Start* (idempotent, starts the state machine) and Get* (pages results).
- ``media``: probing and decoding with PyAV (only the VideoDecode function carries it).
- ``segments``: shot boundaries and black frames from decoded frames (numpy only).
- ``workers``: the Task states of ``statemachines/video_jobs.asl.json``.
"""
