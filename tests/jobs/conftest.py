from tests.jobs.runners import (  # noqa: F401
    mailer,
    runner,
    runtime,
    smtp_sink,
    webhook_receiver,
    webhooks,
)
