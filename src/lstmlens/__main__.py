"""``python -m lstmlens``: the same command line as the ``lstmlens`` script."""

from lstmlens.cli import app

if __name__ == "__main__":
    app(prog_name="lstmlens")
