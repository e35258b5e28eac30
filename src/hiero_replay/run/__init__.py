"""Running a plan: ``runner`` (segment by segment, checkpointed), ``staging``, ``prefetch``,
``pacer``, ``verify`` (the backends' outputs), and ``replay`` (plan + run under the lock, or resume)."""

from .replay import resume_replay, run_replay

__all__ = ["resume_replay", "run_replay"]
