"""Generate the Python gRPC code from proto/poet/v1/poet.proto (`python -m proto.build`).

Writes poet_pb2.py, poet_pb2.pyi and poet_pb2_grpc.py beside the .proto, importable as
`from proto.poet.v1 import poet_pb2`. Never edit those files by hand.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO = Path("proto/poet/v1/poet.proto")


def build(out: Path = ROOT) -> list[Path]:
    """Run protoc into out (the repo root by default); return the generated files."""
    # -I ROOT names the file proto/poet/v1/poet.proto, so the generated grpc module imports
    # `from proto.poet.v1 import poet_pb2`, which works from the repo root without any rewriting.
    include = Path(grpc_tools.__file__).parent / "_proto"  # google/protobuf/*.proto
    args = [
        "protoc",
        f"-I{ROOT}",
        f"-I{include}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        str(ROOT / PROTO),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    folder = out / PROTO.parent
    return [folder / name for name in ("poet_pb2.py", "poet_pb2.pyi", "poet_pb2_grpc.py")]


def main(argv: list[str] | None = None) -> None:
    """Regenerate the code and list the files written."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT, help="root to write proto/poet/v1/* under")
    args = parser.parse_args(argv)
    for path in build(args.out):
        print(path, file=sys.stderr)


if __name__ == "__main__":
    main()
