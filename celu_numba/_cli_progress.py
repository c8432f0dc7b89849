"""A tiny text progress bar on stderr, shown only for runs that last over a second."""

import sys
import time


class Progress:
    """``with Progress(total) as bar: ... bar.advance(label)``.

    Nothing is drawn until ``delay`` seconds have passed, so quick runs stay quiet;
    after that the bar is redrawn in place (carriage return) on each step and
    erased at the end.  Drawn only on a terminal unless ``enabled`` says otherwise.
    """

    def __init__(self, total, stream=None, delay=1.0, width=30, enabled=None, clock=time.monotonic):
        self.total = max(int(total), 1)
        self.stream = sys.stderr if stream is None else stream
        self.delay = delay
        self.width = width
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.clock = clock
        self.done = 0
        self.drawn = False
        self._start = clock()
        self._last_len = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def render(self, label=""):
        """The bar as text: ``[#####.....]  5/10 label``."""
        filled = self.width * self.done // self.total
        bar = "#" * filled + "." * (self.width - filled)
        return f"[{bar}] {self.done:>{len(str(self.total))}}/{self.total} {label}".rstrip()

    def advance(self, label=""):
        """Count one step done and redraw, once ``delay`` seconds have passed."""
        self.done = min(self.done + 1, self.total)
        if self.enabled and self.clock() - self._start >= self.delay:
            text = self.render(label)
            pad = " " * max(0, self._last_len - len(text))
            self.stream.write("\r" + text + pad)
            self.stream.flush()
            self._last_len = len(text)
            self.drawn = True

    def close(self):
        """Erase the bar, if one was drawn, leaving the line clean for the output."""
        if self.drawn:
            self.stream.write("\r" + " " * self._last_len + "\r")
            self.stream.flush()
            self.drawn = False
