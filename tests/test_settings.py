"""Settings: one default each, overridden by its environment variable, and the README's configuration
table says the same."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from client.settings import ClientSettings, grpc_target
from server.settings import ROOT, ServerSettings, WebSettings

SETTINGS = (ClientSettings, ServerSettings, WebSettings)
TRAINING_ONLY = {"POET_TRAIN_THREADS"}  # model.train's, not a serving process's
README_ROW = re.compile(r"^\| `(POET_\w+)`[^|]*\| `([^`]*)` \|", re.MULTILINE)


def defaults_by_variable() -> dict[str, object]:
    return {f.metadata["env"]: f.default for kind in SETTINGS for f in fields(kind)}


def test_every_variable_is_read_once_by_one_setting() -> None:
    names = [f.metadata["env"] for kind in SETTINGS for f in fields(kind)]
    assert len(names) == len(set(names))


def test_the_environment_overrides_a_default_in_its_type() -> None:
    settings = ServerSettings.from_env({"POET_GRPC_PORT": "6000", "POET_MODEL": "/tmp/w", "POET_GRACE": "2.5"})
    assert (settings.port, settings.model, settings.grace) == (6000, Path("/tmp/w"), 2.5)
    assert settings.max_batch == ServerSettings().max_batch == 64  # unset: the default


def test_a_value_of_the_wrong_type_names_its_variable() -> None:
    with pytest.raises(ValueError, match="POET_RETRIES='many' is not int"):
        ClientSettings.from_env({"POET_RETRIES": "many"})


def test_the_client_looks_where_the_server_listens_by_default() -> None:
    server = ServerSettings()
    assert ClientSettings().server == f"{server.host}:{server.port}"


@pytest.mark.parametrize(
    "server, target",
    [
        ("127.0.0.1:50051", "127.0.0.1:50051"),  # one address, as it always was
        ("poet.internal:50051", "poet.internal:50051"),
        ("dns:///poet.internal:50051", "dns:///poet.internal:50051"),  # every address the name resolves to
        ("127.0.0.1:51301,127.0.0.1:51302", "ipv4:127.0.0.1:51301,127.0.0.1:51302"),
        ("10.0.0.5:50051, 10.0.0.6:50051", "ipv4:10.0.0.5:50051,10.0.0.6:50051"),
        ("[::1]:51301,[::1]:51302", "ipv6:[::1]:51301,[::1]:51302"),
        ("ipv4:127.0.0.1:51301,127.0.0.1:51302", "ipv4:127.0.0.1:51301,127.0.0.1:51302"),  # gRPC's own list
    ],
)
def test_a_server_setting_becomes_a_grpc_target(server: str, target: str) -> None:
    assert grpc_target(server) == target


@pytest.mark.parametrize(
    "server, needle",
    [
        ("localhost:51301,localhost:51302", "not 'localhost:51301'; for a name that resolves to every replica"),
        ("127.0.0.1:51301,127.0.0.1", "not '127.0.0.1'"),  # no port
        ("127.0.0.1:51301,127.0.0.1:99999", "not '127.0.0.1:99999'"),
        ("::1:51301,::1:51302", "not '::1:51301'"),  # IPv6 without brackets
        ("127.0.0.1:51301,[::1]:51302", "must be all IPv4 or all IPv6"),
    ],
)
def test_a_list_of_servers_takes_ip_addresses_only(server: str, needle: str) -> None:
    with pytest.raises(ValueError, match="服务器列表") as raised:
        grpc_target(server)
    assert needle in str(raised.value)
    with pytest.raises(ValueError, match="服务器列表"):  # read from the environment: the process stops at start
        ClientSettings.from_env({"POET_SERVER": server})


def test_the_readme_table_lists_every_setting_with_its_default() -> None:
    readme = dict(README_ROW.findall((ROOT / "README.md").read_text(encoding="utf-8")))
    defaults = defaults_by_variable()
    assert set(readme) - TRAINING_ONLY == set(defaults)
    for name, default in defaults.items():
        written = readme[name]
        if isinstance(default, Path):
            assert ROOT / written == default, name
        elif isinstance(default, (int, float)):
            assert float(written) == default, name
        else:
            assert written == default, name
