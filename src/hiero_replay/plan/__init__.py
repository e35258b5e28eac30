"""The plan: ``inputs`` (load states and stream files), ``selection`` (the cutover rule, pure),
``segments`` and ``timeline`` (segmentation and pacing), ``make`` (the plan itself)."""

from .inputs import PlanInputs, load_plan_inputs
from .make import make_plan, new_run_id

__all__ = ["PlanInputs", "load_plan_inputs", "make_plan", "new_run_id"]
