"""Scheduled runs: ``triggers`` (cron, interval), the ``scheduler`` loop and its policies, and
``follow`` (one replay per fire, follow mode)."""
