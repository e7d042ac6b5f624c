"""One JSON object per log line, with the `extra` fields a call passed (request id, ...)."""

import json
import logging
from typing import Any

from django.http import HttpRequest

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(
            {key: _loggable(value) for key, value in vars(record).items() if key not in _STANDARD}
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def _loggable(value: Any) -> Any:
    # Django passes the request along with its error records; its repr carries the query
    # string, which can hold anything a client typed (even credentials). Method and path only.
    if isinstance(value, HttpRequest):
        return f"{value.method} {value.path}"
    return value


class WithoutQueryString(logging.Filter):
    """Cuts the query string out of an access-log record's request line ("GET /p?q HTTP/1.1"
    becomes "GET /p HTTP/1.1"), as Django's development server logs it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args and isinstance(record.args[0], str):
            line = record.args[0]
            method, _, rest = line.partition(" ")
            target, space, version = rest.partition(" ")
            if "?" in target:
                line = f"{method} {target.split('?', 1)[0]}{space}{version}"
            record.args = (line, *record.args[1:])
        return True
