"""The decoding engine: constrained sampling on OpenVINO with a KV cache and continuous batching."""
from model.engine.engine import Engine, Ticket

__all__ = ["Engine", "Ticket"]
