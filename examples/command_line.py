"""What the training examples share on the command line: the output folder and the flags.

    python examples/<name>.py [output_dir] [--epochs N] [--no-progress]
"""

from __future__ import annotations

import argparse
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parent / "out"
"""Where the examples write their pictures unless given a folder."""


def parse_arguments(description: str, epochs: int | None = None) -> argparse.Namespace:
    """``output_dir`` (default :data:`OUT_DIR`), ``progress`` and, when ``epochs`` gives its
    default, ``epochs``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("output_dir", nargs="?", type=Path, default=OUT_DIR,
                        help=f"folder for the pictures (default: {OUT_DIR})")
    if epochs is not None:
        parser.add_argument("--epochs", type=int, default=epochs,
                            help=f"passes over the training data (default: {epochs})")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="hide the training progress bar")
    return parser.parse_args()
