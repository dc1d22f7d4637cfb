"""Servers: the gRPC model server over the engine, and the Flask web app over the client."""
