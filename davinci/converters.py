class DatabaseIdConverter:
    """`<id:pk>`: a positive integer that fits a 64-bit primary key.

    Django's `<int:...>` accepts any length, and a 30-digit id makes the database driver raise
    (a 500) instead of answering 404.
    """

    regex = "[1-9][0-9]{0,17}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
