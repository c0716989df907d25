"""Exchange (on-premises, and Exchange Online where EWS is still used) through
Exchange Web Services with exchangelib: `transport` is the HTTP side (TLS
trust, `LOGGBOK_EWS_CONNECT_TO`, the autodiscover resolver), `connection`
builds the exchangelib account (credentials, autodiscover) and runs every call
on the mailbox's own thread with ErrorServerBusy honoured, `headers` builds
header blocks from item properties, `stream` listens to streaming
notifications, `backend` turns per-folder SyncFolderItems into the backend
contract, `provider` plugs it into the registry."""
