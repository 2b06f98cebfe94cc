"""A real SMTP server for the email tests (aiosmtpd, Debian python3-aiosmtpd).

Stores every accepted message in a Maildir; answers 550 to recipients starting with
"reject" and 451 to those starting with "tempfail"; prints "ready" once listening.
Usage: smtp_sink.py PORT MAILDIR
"""
import mailbox
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, maildir):
        self.box = mailbox.Maildir(maildir, create=True)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 Recipient address rejected: user unknown"
        if local.startswith("tempfail"):
            return "451 4.3.0 Temporary failure, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.box.add(envelope.original_content)
        return "250 2.0.0 Ok: queued"


def main():
    port, maildir = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Handler(maildir), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
