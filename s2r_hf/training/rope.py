"""The one-time RoPE conversion of the paper's recipe: Qwen2.5-Math-7B-Instruct ships with RoPE theta 10k and 4k
positions; long chains of thought are trained with theta 300k and 32k positions (as OpenR1 did).

Only `config.json` changes: RoPE's base frequency and the position limit are settings, not weights. The model folder
(a local folder, or a Hub id downloaded into the cache) is copied whole into a new folder, with that one file edited.

    python -m s2r_hf.training.rope Qwen/Qwen2.5-Math-7B-Instruct ./Qwen2.5-Math-7B-Instruct-rope300k
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from pathlib import Path

from s2r_hf.core.entry import run_entry
from s2r_hf.core.errors import InputError, ModelError, OutputExistsError
from s2r_hf.core.folders import staged_folder
from s2r_hf.core.locks import locked_output
from s2r_hf.core.options import DefaultsHelpFormatter
from s2r_hf.core.records import read_json_object

logger = logging.getLogger(__name__)

PAPER_THETA = 300_000.0
PAPER_POSITIONS = 32_768


def extend_rope(model: str, output: str, *, theta: float = PAPER_THETA, max_positions: int = PAPER_POSITIONS) -> Path:
    """Copy `model` into `output` with RoPE theta and max_position_embeddings set; returns the new folder."""
    target = Path(output).expanduser()
    if target.exists():
        raise OutputExistsError(f"{str(target)!r} already exists; choose a new folder for the converted model")
    if theta <= 0 or max_positions < 1:
        raise InputError(f"theta and max_positions must be positive, got {theta} and {max_positions}")
    source = Path(model).expanduser()
    if not source.is_dir():
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HfHubHTTPError

        try:
            source = Path(snapshot_download(model))
        except (HfHubHTTPError, OSError, ValueError) as err:
            raise ModelError(f"cannot find the model {model!r} locally or on the Hub: {err}") from err
    config_path = source / "config.json"
    if not config_path.is_file():
        raise ModelError(f"{str(source)!r} has no config.json; give a transformers model folder or Hub id")
    try:
        config = read_json_object(
            config_path, what="a model's config", fix="give a transformers model folder or Hub id"
        )
    except InputError as err:  # the model named cannot be converted
        raise ModelError(str(err)) from None
    if isinstance(config.get("rope_parameters"), dict):  # transformers 5 writes RoPE settings here
        config["rope_parameters"]["rope_theta"] = float(theta)
    if "rope_theta" in config or not isinstance(config.get("rope_parameters"), dict):
        config["rope_theta"] = float(theta)
    before = config.get("max_position_embeddings")
    config["max_position_embeddings"] = int(max_positions)
    target.parent.mkdir(parents=True, exist_ok=True)
    with locked_output(target, "python -m s2r_hf.training.rope"), staged_folder(target, overwrite=False) as staging:
        shutil.copytree(source, staging, ignore=shutil.ignore_patterns(".*"), dirs_exist_ok=True)
        (staging / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    logger.info("wrote %s: rope theta %s, max positions %s -> %s", target, theta, before, max_positions)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m s2r_hf.training.rope",
        description=__doc__.split("\n\n")[0],
        formatter_class=DefaultsHelpFormatter,
    )
    parser.add_argument("model", help="a model folder or Hub id (e.g. Qwen/Qwen2.5-Math-7B-Instruct)")
    parser.add_argument("output", help="the new folder to write")
    parser.add_argument("--theta", type=float, default=PAPER_THETA, help="RoPE base frequency")
    parser.add_argument("--max-positions", type=int, default=PAPER_POSITIONS, help="max_position_embeddings")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    def convert() -> int:
        extend_rope(args.model, args.output, theta=args.theta, max_positions=args.max_positions)
        return 0

    # The new folder is copied into a staging folder and renamed only when whole.
    return run_entry(
        convert, prog=parser.prog, interrupted="interrupted; the new folder is written whole or not at all"
    )


if __name__ == "__main__":
    sys.exit(main())
