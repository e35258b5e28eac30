"""verify-history: a long history verified as independent jobs between consecutive saved states.

``states`` lists the saved round directories; ``jobs`` pairs them and describes each job;
``job`` runs one (a normal replay, resumable); ``launch`` runs one in a child process;
``executors`` run many (local processes, a Dask cluster, the pods of a Kubernetes Indexed Job);
``verify`` ties them together with the job table of the run store (``store``); ``results`` and
``collect`` carry the pods' results back; ``manifest`` writes the Indexed Job.
"""
