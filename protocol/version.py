"""Protocol version and the rule for bumping it.

The version is "MAJOR.MINOR". Adding a method, an optional param, a result
field or a notification bumps MINOR; removing or changing the meaning of
anything bumps MAJOR. Clients compare MAJOR from `daemon.hello`. Every bump
gets a line under "Protocol" in CHANGELOG.md.
"""

PROTOCOL_VERSION = "1.23"
