"""The shared data model: stream files, inventories, plans and results (no I/O).

Every layer above ``streams`` passes these around; ``observe`` reads nothing else.
"""
