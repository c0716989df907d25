"""Microsoft 365 through Microsoft Graph: `client` speaks HTTP to Graph (TLS,
throttling, `$batch`, tokens), `backend` turns per-folder delta queries into the
backend contract (header first, `$value` only for what is logged, polling for
changes), `headers` builds header blocks from Graph properties, `sign_in`
drives msal's device-code flow, `provider` plugs it into the registry."""
