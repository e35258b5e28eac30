"""Observability: what a run reports as it moves (``events``), metrics, the status file, progress
and the HTML report. Reads the shared model and the run store; imports nothing that runs replays."""
