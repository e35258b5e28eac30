"""Replay backends behind one ``ReplayBackend`` protocol (``base``), found by name in ``registry``."""
