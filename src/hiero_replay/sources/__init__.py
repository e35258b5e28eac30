"""Where stream files and states come from: the ``ReplaySource`` protocol (``base``), a local folder
(``local``) and buckets (``object_store`` with one module per provider), opened by URL scheme (``registry``)."""
