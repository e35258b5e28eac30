"""Contract-faithful stand-ins for PCLI ``event-stream recover`` and the state validator's
``apply-blocks``, for tests, rehearsals (``--simulate``) and the demo.

They take exactly the real command lines, read the real round-directory layout and the stream
files (with the project's readers), fail with the real messages and exit codes, and write a state
whose HASH folds the bootstrap HASH with the content of every applied round, so one segment or
many give the same final HASH.
"""
