"""Maildir provider: a local Maildir++ tree kept by mbsync, offlineimap or a
local delivery agent. `backend` reads it on worker threads, `watch` turns
inotify (or polling) into change wake-ups, `provider` plugs it into the
registry."""
