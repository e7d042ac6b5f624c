"""The outbox: every email or text message the product sends is a Notice row, written in the
transaction of the request that wants it sent, and delivered by a Celery task afterwards.

To add a notice, decorate the function that sends it with `davinci.outbox.tasks.notice`:

    @notice("release_code")
    def release_code_send(*, attempt_id: int) -> None: ...

and queue it with ids only (never a code or a secret; the sender reads them when it runs):

    release_code_send.queue(attempt_id=attempt.pk)

`queue()` writes the Notice and, once the transaction commits, hands its id to the broker (or
runs it at once in-process when no broker is configured). The task claims the row before it
sends, so a notice is sent at most once however often it is dispatched; a failed send is
retried with backoff and its error kept on the row. The beat sweep re-dispatches notices
that never reached a worker (the broker was down), so none is lost.

The sender sends through `davinci.outbox.emails`, one function per email and text message
(their words in templates/emails/ and templates/sms/), which refuses to run outside a sender.
"""
