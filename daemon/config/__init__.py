"""The config file `$XDG_CONFIG_HOME/loggbok/config.toml`: parsed and checked
(`parse.py`), applied to the store (`apply.py`), re-read on change (`service.py`).
See `docs/config.md`."""
