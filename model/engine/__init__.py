"""The decoding engine: constrained sampling on OpenVINO with a KV cache and continuous batching.

Import what you need from its modules (`model.engine.engine.Engine`, `model.engine.router.open_engine`):
this package imports nothing itself, so the request contract (`model.engine.contract`) loads without
OpenVINO for the client and the web app.
"""
