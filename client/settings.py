"""Where a client finds the model server, how long it waits and how often it retries: the defaults, and
the environment variables that change them. Each process reads its environment once, in its main
(the web app in create_app); server/settings.py holds the servers' settings on the same pattern."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Self

HOST = "127.0.0.1"  # the model server and the page listen on loopback unless told otherwise
PORT = 50051  # the model server's


def env(name: str, default: Any) -> Any:
    """A settings field: its default, and the environment variable that overrides it."""
    return field(default=default, metadata={"env": name})


class FromEnvironment:
    """For frozen settings dataclasses whose fields come from `env`."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """The settings, each field from its environment variable where set, else its default."""
        environ = os.environ if environ is None else environ
        values = {}
        for setting in fields(cls):  # type: ignore[arg-type]  # subclasses are dataclasses
            name = setting.metadata["env"]
            if name in environ:
                kind = type(setting.default)  # "60" becomes a float for a float default, a Path for a Path
                try:
                    values[setting.name] = kind(environ[name])
                except ValueError:
                    raise ValueError(f"{name}={environ[name]!r} is not {kind.__name__}") from None
        return cls(**values)


@dataclass(frozen=True)
class ClientSettings(FromEnvironment):
    """What PoetClient is built with in the web app, the CLI and the batch script."""

    server: str = env("POET_SERVER", f"{HOST}:{PORT}")
    timeout: float = env("POET_TIMEOUT", 60.0)  # seconds one call may wait on the model server
    retries: int = env("POET_RETRIES", 2)  # on UNAVAILABLE, with backoff: a restarting server is back in seconds
