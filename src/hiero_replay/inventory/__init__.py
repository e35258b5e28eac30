"""The inventory: a source's stream files listed (``listing``), read (``reading``) and checked
(``checks``) before any backend starts."""

from .checks import verify_stream_files
from .scan import load_stream_files, open_stream_source, read_workers, scan_source

__all__ = ["load_stream_files", "open_stream_source", "read_workers", "scan_source", "verify_stream_files"]
