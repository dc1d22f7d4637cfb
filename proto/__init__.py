"""Protocol: the poet.v1 gRPC contract and its generated code."""
