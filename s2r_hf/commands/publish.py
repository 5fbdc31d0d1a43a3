"""`s2r publish SUBSET_DIR --repo-id s2r/openr1-select10`: push subset folders to the Hugging Face Hub."""

from __future__ import annotations

import argparse

SHOWN_PATHS = 20  # files listed per heading in the summary

HELP = "publish subset folders written by `s2r select` to the Hugging Face Hub (one commit; none if unchanged)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "subsets",
        nargs="+",
        metavar="SUBSET_DIR",
        help="folder written by `s2r select`; several folders become the configs of one repo",
    )
    parser.add_argument("--repo-id", required=True, help="dataset repo to publish to, e.g. s2r/openr1-select10")
    parser.add_argument(
        "--private", action="store_true", help="create the repo private (an existing repo is kept as is)"
    )
    parser.add_argument("--revision", help="existing branch to commit to (default: main)")
    parser.add_argument(
        "--token",
        help="Hub token with write access; by default HF_TOKEN or the stored `hf auth login` token "
        "(prefer those: a token on the command line ends up in shell history)",
    )
    parser.add_argument("--message", help="commit title (default: a summary of what changed)")
    parser.add_argument(
        "--config-name",
        action="append",
        dest="config_names",
        metavar="NAME",
        help="with several folders: config name for each folder, in order (default: the last '-' part of the subset "
        "name, e.g. select10)",
    )
    parser.add_argument("--default-config", help="with several folders: the config `load_dataset(repo)` loads")


def run(args: argparse.Namespace) -> int:
    from s2r_hf.core.errors import DuplicateConfigError, InputError
    from s2r_hf.hub.retry import check_online
    from s2r_hf.hub.subsets import publish_subset, publish_subsets

    check_online()  # before any folder is read
    common = {
        "private": args.private,
        "revision": args.revision,
        "token": args.token,
        "commit_message": args.message,
    }
    if len(args.subsets) == 1 and not args.config_names and not args.default_config:
        result = publish_subset(args.subsets[0], args.repo_id, **common)
    else:
        folders: list[str] | list[tuple[str, str]] = list(args.subsets)
        if args.config_names:
            if len(args.config_names) != len(args.subsets):
                raise InputError(
                    f"--config-name was given {len(args.config_names)} time(s) for {len(args.subsets)} folder(s); "
                    "give one name per folder, in the same order"
                )
            folders = list(zip(args.config_names, args.subsets))  # pairs, not a dict: a repeated name is an error
        try:
            result = publish_subsets(folders, args.repo_id, default=args.default_config, **common)
        except DuplicateConfigError as error:
            raise InputError(_config_name_advice(error)) from None
    if result.changed:
        print(f"published to {result.url}")
        print(f"commit {result.commit}: {result.message}")
        for heading, paths in (("added", result.added), ("updated", result.updated), ("deleted", result.deleted)):
            if paths:
                # The commit description on the Hub lists every file; a terminal line shows the first few.
                more = f" (+{len(paths) - SHOWN_PATHS} more)" if len(paths) > SHOWN_PATHS else ""
                print(f"  {heading}: {', '.join(paths[:SHOWN_PATHS])}{more}")
    else:
        print(f"{result.url} already holds this content at commit {result.commit}: nothing to publish")
    return 0


def _config_name_advice(error) -> str:
    """The library's duplicate-config message, with the fix in command-line terms."""
    (first_name, name), (first, second) = error.names, error.folders
    if first == second:
        return f"the folder {first} is given twice; give each folder once"
    if first_name != name:
        clash = f"config names {first_name!r} ({first}) and {name!r} ({second}) differ only in case"
        return f"{clash}: their folders would collide on case-insensitive file systems; choose other --config-name"
    if error.explicit:
        return (
            f"--config-name {name!r} is given twice ({first} and {second}); "
            "give each folder its own --config-name, in the order of the folders"
        )
    return (
        f"{first} and {second} would both be config {name!r} (the last '-' part of their subset names); "
        "name each folder with --config-name, once per folder in the same order "
        f"(e.g. --config-name {name} --config-name {name}-b)"
    )
