"""`StreamListener`: EWS streaming notifications on a thread of their own.

It subscribes the watched folders (`subscribe_to_streaming`), holds a
GetStreamingEvents connection open (`connection_minutes`, 1-30), and sets the
backend's flag on the event loop whenever an event arrives. A subscription is
made again before it can time out (`RESUBSCRIBE_AFTER`, Exchange drops one 30
minutes after its last connection), when the server says it is gone, and when
the watched folders change. Any failure (the network, a refused login, the
server busy) leaves push off until `RETRY_AFTER` has passed: the backend
polls meanwhile, so mail is noticed either way. The listener ends at `stop`
(the open stream ends at its next notification or heartbeat, or when the
connection times out; its thread is a daemon).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

from exchangelib import Account
from exchangelib.errors import ErrorServerBusy, ErrorSubscriptionNotFound
from exchangelib.folders import FolderCollection

from loggbok.daemon.sync.providers.ews.connection import (
    DEFAULT_BACK_OFF,
    EwsConnection,
    is_server_busy,
)

log = logging.getLogger(__name__)

RESUBSCRIBE_AFTER = 25 * 60.0
RETRY_AFTER = 60.0


class StreamListener:
    def __init__(
        self,
        connection: EwsConnection,
        folders: Callable[[Account], list[object]],
        notify: Callable[[], None],
        *,
        connection_minutes: int = 30,
    ) -> None:
        self._connection = connection
        self._folders = folders
        self._notify = notify
        self.connection_minutes = max(1, min(30, connection_minutes))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.working = False
        """A stream is open now (push is on)."""
        self.subscriptions = 0
        self.subscription: str | None = None
        """The live subscription's id (the backend unsubscribes it when it closes)."""
        self.events = 0

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._thread is not None:
            return

        def notify() -> None:
            loop.call_soon_threadsafe(self._notify)

        self._thread = threading.Thread(
            target=self._run, args=(notify,), name="ews-stream", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self, notify: Callable[[], None]) -> None:
        while not self._stop.is_set():
            try:
                self._listen(notify)
            except ErrorSubscriptionNotFound:
                log.debug("EWS subscription gone: subscribing again")
                self.subscription = None
            except ErrorServerBusy as exc:
                busy = is_server_busy(exc) and exc.back_off is not None
                self._connection.hold_off(float(exc.back_off) if busy else DEFAULT_BACK_OFF)
            except Exception as exc:
                log.info("EWS streaming off for now: %s: %s", type(exc).__name__, exc)
                self.working = False
                self._stop.wait(RETRY_AFTER)
            self.working = False

    def _listen(self, notify: Callable[[], None]) -> None:
        self._connection.wait_turn_blocking()
        account = self._connection.account
        if account is None:
            self._stop.wait(1.0)
            return
        folders = self._folders(account)
        if not folders:
            self._stop.wait(1.0)
            return
        collection = FolderCollection(account=account, folders=folders)
        subscription = collection.subscribe_to_streaming()
        self.subscription = subscription
        self.subscriptions += 1
        subscribed = time.monotonic()
        subscribed_ids = _ids(folders)
        notify()  # anything that came before the subscription is found by the next round
        try:
            while not self._stop.is_set():
                if time.monotonic() - subscribed > RESUBSCRIBE_AFTER:
                    return
                self._connection.wait_turn_blocking()
                self.working = True
                for notification in folders[0].get_streaming_events(  # type: ignore[attr-defined]
                    subscription, connection_timeout=self.connection_minutes
                ):
                    if self._stop.is_set():
                        return
                    if _ids(self._folders(account)) != subscribed_ids:
                        return  # the rounds read other folders now: subscribe those
                    if notification.events:
                        self.events += len(notification.events)
                        notify()
        finally:
            self.working = False
            if not self._stop.is_set():
                self.subscription = None
                try:
                    collection.unsubscribe(subscription)
                except Exception:
                    log.debug("EWS unsubscribe failed", exc_info=True)


def _ids(folders: list[object]) -> frozenset[str]:
    return frozenset(str(getattr(f, "id", "")) for f in folders)
