"""The JSON-RPC 2.0 server: Unix-socket transport, dispatch through jsonrpcserver
with the registry's types, thin handlers per aggregate, push notifications."""
