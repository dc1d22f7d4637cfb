"""The decoding engine: constrained sampling on OpenVINO with a KV cache and continuous batching."""

from model.engine.engine import Engine, Ticket
from model.engine.router import Router, open_engine

__all__ = ["Engine", "Router", "Ticket", "open_engine"]
