"""What people type and read: the one argument specification (``args``), text views of a
search (``text``: trial lines, status, leaderboard), the ``%automl`` magics (``magics``) and
the command line (``cli``). The core never imports this package; it imports the core."""
