"""Only the optional C accelerator is declared here; everything else lives in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "hiero_replay.streams._accel",
            sources=["src/hiero_replay/streams/_accel.c"],
            libraries=["crypto"],
            optional=True,  # without a compiler or OpenSSL headers the pure-Python path is used
        )
    ]
)
