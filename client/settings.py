"""Where a client finds the model server, how long it waits and how often it retries: the defaults, and
the environment variables that change them. Each process reads its environment once, in its main
(the web app in create_app); server/settings.py holds the servers' settings on the same pattern.

POET_SERVER (and --server) is one HOST:PORT, any gRPC target (dns:///poet.internal:50051 takes every
address the name resolves to), or a comma-separated list of IP addresses with ports
(127.0.0.1:51301,127.0.0.1:51302; IPv6 in brackets), which becomes gRPC's own ipv4: or ipv6: list.
A list takes no host names: gRPC resolves one name per target, so name them with dns:/// instead."""

from __future__ import annotations

import argparse
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Self

HOST = "127.0.0.1"  # the model server and the page listen on loopback unless told otherwise
PORT = 50051  # the model server's
NOT_AN_IP = (
    "服务器列表只收 IP 地址加端口（如 127.0.0.1:50051），不收 {address!r}；一个域名对应多台副本时用 dns:///域名:端口",
    "a list of servers takes IP addresses with ports (such as 127.0.0.1:50051), not {address!r}; "
    "for a name that resolves to every replica use dns:///NAME:PORT",
)
MIXED = ("服务器列表须全为 IPv4 或全为 IPv6", "a list of servers must be all IPv4 or all IPv6")


def env(name: str, default: Any) -> Any:
    """A settings field: its default, and the environment variable that overrides it."""
    return field(default=default, metadata={"env": name})


def ip_version(address: str) -> int:
    """4 or 6 for an IP address with a port (IPv6 in brackets); a bilingual ValueError for anything else."""
    host, _, port = address.rpartition(":")
    bracketed = host.startswith("[") and host.endswith("]")
    try:
        ip = ipaddress.ip_address(host[1:-1] if bracketed else host)
    except ValueError:
        ip = None  # a host name, or no host at all
    if ip is None or (ip.version == 6) != bracketed or not (port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(" / ".join(NOT_AN_IP).format(address=address))
    return ip.version


def grpc_target(server: str) -> str:
    """The gRPC target for POET_SERVER or --server: one address or a gRPC target as it is, a comma-separated
    list of IP addresses as gRPC's ipv4: or ipv6: list; a bilingual ValueError for a list with names."""
    if "," not in server or server.startswith(("ipv4:", "ipv6:")):
        return server
    addresses = [address.strip() for address in server.split(",")]
    versions = {ip_version(address) for address in addresses}
    if len(versions) > 1:
        raise ValueError(" / ".join(MIXED))
    return f"ipv{versions.pop()}:{','.join(addresses)}"


def add_server_argument(parser: argparse.ArgumentParser) -> None:
    """--server, as the CLI and the batch script take it; a list with host names is refused as a usage error."""

    def checked(server: str) -> str:
        try:
            grpc_target(server)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        return server

    parser.add_argument(
        "--server",
        type=checked,
        default=None,
        help="HOST:PORT, a comma-separated list of IP:PORT, or a gRPC target such as dns:///NAME:PORT "
        f"(default $POET_SERVER or {ClientSettings.server})",
    )


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

    server: str = env("POET_SERVER", f"{HOST}:{PORT}")  # one address, a gRPC target or a list (above)
    timeout: float = env("POET_TIMEOUT", 60.0)  # seconds one call may wait on the model server
    # Calls that get UNAVAILABLE are tried again this many times, on another replica where there is one,
    # with backoff (gRPC's retryPolicy; it makes at most 5 attempts, so more than 4 counts as 4).
    retries: int = env("POET_RETRIES", 2)

    def __post_init__(self) -> None:
        grpc_target(self.server)  # a list with a host name stops the process that reads it, at start
