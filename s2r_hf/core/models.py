"""Models by reference: the one rule for "is this a local folder or a Hub id?", and the cheap checks that a model (a
judge, a base model to train, a model to evaluate) is usable before anything slow starts.

The rule (`looks_like_local_path`, `is_local_model`). A reference names a local folder when it exists on disk (a folder
`org/name` beside you wins over the Hub repo of that name, as in transformers), or when no Hub repo id could be spelled
so: a Hub id is `name` or `namespace/name`, starting with a letter or digit, so a reference starting with `.`, `/` or
`~` (`./model`, `../m`, `.hidden-model`, `/abs/model`, `~/model`), ending with `/` (`my_dir/`: a folder, as a shell
completes it), holding a backslash, or with more than one `/` (`runs/tiny/final`) is a path, and one that does not
exist is refused as a missing folder, never looked up on the Hub.
Anything else that does not exist (`org/name`, `gpt2`) is a Hub id. Dataset sources follow the same rule
(s2r_hf.pool.sources, s2r_hf.pipeline.builder), with their file names besides.

The checks. A local folder is checked by its file names (config.json, a tokenizer, a chat template), loading nothing;
a Hub model costs one metadata request (`check_model_reachable`), and every way a Hub lookup fails becomes one
ModelError saying which case it is (`hub_errors`). `fetch_model` downloads what a chat model needs, once.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from s2r_hf.core.errors import InputError, ModelError
from s2r_hf.core.http_errors import transport_errors
from s2r_hf.core.records import read_json_object

# Files a tokenizer can be saved as; a model folder needs at least one, and a chat template among these or its own file.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json")
CHAT_TEMPLATE_FILES = ("chat_template.jinja", "chat_template.json")
# What a chat model needs from a Hub repo: config, weights, tokenizer and chat template (not other formats' weights).
MODEL_FILE_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.model", "*.jinja", "*.tiktoken"]


def looks_like_local_path(name: str) -> bool:
    """True when `name` is spelled as a path, which no Hub repo id can be: it starts with `.`, `/` or `~`, ends with
    `/`, holds a backslash, or has more than one `/`. `org/name` and `name` are not (they may still be local folders
    that exist)."""
    return name.startswith((".", "/", "~")) or name.endswith("/") or "\\" in name or name.count("/") > 1


def is_org_repo_id(name: str) -> bool:
    """True when `name` is spelled as a Hub repo id with its owner, `org/name` (and not as a path)."""
    return not looks_like_local_path(name) and name.count("/") == 1


def is_local_model(name: str) -> bool:
    """True when `name` means a local folder (or file): it exists on disk, or it is spelled as a path. False for a blank
    name, which is neither."""
    if not name.strip():
        return False
    return Path(name).expanduser().exists() or looks_like_local_path(name)


def check_model_reference(model: str, *, role: str = "model", chat_template: bool = True) -> None:
    """A clear error for a local path that does not exist (rather than a confusing Hub lookup of a file path), and for
    a local folder that is not a usable chat model. `role` names the model in messages ("judge", "base model");
    `chat_template=False` where the caller supplies the template itself (training with --chat_template_path)."""
    if not isinstance(model, str) or not model.strip():
        raise InputError(f"the {role} must be a Hub model id or a local folder; got {model!r}")
    path = Path(model).expanduser()
    if path.exists():
        check_model_folder(path, model, role=role, chat_template=chat_template)
        return
    if looks_like_local_path(model):
        raise ModelError(
            f"the {role} folder {model!r} does not exist; give an existing folder (holding config.json, the weights "
            "and the tokenizer) or a Hub model id (org/name)"
        )


def check_model_folder(path: Path, model: str, *, role: str = "model", chat_template: bool = True) -> None:
    """A local model folder holds a config, a tokenizer and (unless `chat_template=False`) a chat template: checked by
    file name, loading nothing."""
    if not path.is_dir():
        raise ModelError(
            f"the {role} {model!r} is a file; give the folder holding config.json, the weights and tokenizer"
        )
    names = sorted(p.name for p in path.iterdir())
    if "config.json" not in names:
        raise ModelError(
            f"the {role} folder {model!r} has no config.json (found: {names[:10]}); save the model there with "
            "save_pretrained"
        )
    if not any(name in names for name in TOKENIZER_FILES):
        raise ModelError(
            f"the {role} folder {model!r} has no tokenizer (none of {list(TOKENIZER_FILES)}; found: {names[:10]}); "
            "save the tokenizer beside the model with tokenizer.save_pretrained"
        )
    if chat_template and not has_chat_template(path):
        raise ModelError(no_chat_template_message(model, role=role))


def has_chat_template(folder: Path) -> bool:
    """A saved tokenizer carries a chat template: a chat_template file, or tokenizer_config.json's chat_template."""
    return any((folder / name).is_file() for name in CHAT_TEMPLATE_FILES) or _config_has_chat_template(folder)


def _config_has_chat_template(folder: Path) -> bool:
    config = folder / "tokenizer_config.json"
    if not config.is_file():
        return False
    try:
        settings = read_json_object(config, what="a tokenizer config", fix="save the tokenizer again")
    except InputError as err:  # the model named by the user cannot serve
        raise ModelError(str(err)) from None
    return bool(settings.get("chat_template"))


def no_chat_template_message(model: str, *, role: str = "model") -> str:
    return (
        f"the {role} {model!r} has no chat template, so its prompts (system + user turns + generation prompt) "
        "cannot be rendered. Use an instruct/chat model, or set tokenizer.chat_template and save the tokenizer beside "
        "the model"
    )


def root_cause(err: BaseException) -> BaseException:
    """The first exception of a chain (what a library wrapped: a refused connection, a timeout)."""
    while err.__cause__ is not None or err.__context__ is not None:
        err = err.__cause__ or err.__context__
    return err


def one_line(err: BaseException) -> str:
    """An exception's message on one line (library messages often span several)."""
    return " ".join(str(err).split()) or type(err).__name__


def fetch_model(model: str, revision: str | None = None, *, role: str = "model") -> tuple[Path, str | None]:
    """(local folder, Hub commit) of a model: a local folder as it is (commit None), a Hub model downloaded once.

    Only what a chat model needs is downloaded (config, safetensors weights, tokenizer, chat template). In offline mode
    (HF_HUB_OFFLINE=1) a cached copy is used; without one the error says so.
    """
    check_model_reference(model, role=role)
    path = Path(model).expanduser()
    if path.is_dir():
        return path.resolve(), None
    from huggingface_hub import snapshot_download

    with hub_errors(model, revision, role=role):
        folder = Path(snapshot_download(repo_id=model, revision=revision, allow_patterns=MODEL_FILE_PATTERNS))
    check_model_folder(folder, model, role=role)
    return folder, folder.name  # the snapshot folder is named by the commit it holds


def check_model_reachable(
    model: str, revision: str | None = None, *, role: str = "model", chat_template: bool = True
) -> None:
    """Fail now, in a second, if the model cannot be used: a missing folder, a folder without config, tokenizer or chat
    template, a Hub model that does not exist or cannot be reached (offline with no cached copy, connection refused).

    Cheap: a local folder is checked from its file names; a Hub model costs one metadata request (its file list), plus
    its small tokenizer_config.json when the chat template is not a file of its own. Nothing is loaded and no weights
    are downloaded; `fetch_model` (or the loader) does that later. Call it before any long step that precedes the
    model's use. `chat_template=False`: the caller brings its own chat template, the model need not have one.
    """
    check_model_reference(model, role=role, chat_template=chat_template)
    if Path(model).expanduser().exists():
        return
    from huggingface_hub import HfApi, constants, hf_hub_download, snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    with hub_errors(model, revision, role=role):
        unreachable = None
        if not constants.HF_HUB_OFFLINE:
            try:
                info = HfApi().model_info(model, revision=revision)
            except transport_errors() as err:
                unreachable = err  # a cached copy still serves, as it does when the model loads
        if constants.HF_HUB_OFFLINE or unreachable is not None:
            try:
                cached = snapshot_download(
                    repo_id=model, revision=revision, allow_patterns=MODEL_FILE_PATTERNS, local_files_only=True
                )
            except LocalEntryNotFoundError as err:
                raise err from unreachable
            check_model_folder(Path(cached), model, role=role, chat_template=chat_template)
            return
        names = {sibling.rfilename for sibling in info.siblings or []}
        where = f"the Hub model {model!r} (revision {revision or 'default'})"
        if "config.json" not in names or not any(name.endswith(".safetensors") for name in names):
            raise ModelError(
                f"{where} has no config.json or no .safetensors weights (files: {sorted(names)[:10]}); choose a "
                "transformers causal LM saved with safetensors"
            )
        if not any(name in names for name in TOKENIZER_FILES):
            raise ModelError(f"{where} has no tokenizer (none of {list(TOKENIZER_FILES)})")
        if chat_template and not any(name in names for name in CHAT_TEMPLATE_FILES):
            if "tokenizer_config.json" not in names:
                raise ModelError(no_chat_template_message(model, role=role))
            config = hf_hub_download(model, "tokenizer_config.json", revision=info.sha)
            if not _config_has_chat_template(Path(config).parent):
                raise ModelError(no_chat_template_message(model, role=role))


@contextmanager
def hub_errors(model: str, revision: str | None, *, role: str = "model"):
    """Turn the ways a Hub model lookup fails into one ModelError that says which case it is and what to do."""
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        HFValidationError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    name = f"the {role} {model!r}"
    try:
        yield
    except GatedRepoError as err:
        raise ModelError(
            f"{name} is gated on the Hub: accept its terms on its page and log in (`hf auth login` or HF_TOKEN)"
        ) from err
    except RepositoryNotFoundError as err:
        raise ModelError(
            f"{name} is neither a local folder nor a Hub model this token can see; check the name or the path, or "
            "log in for a private model"
        ) from err
    except RevisionNotFoundError as err:
        raise ModelError(f"{name} has no revision {revision!r} on the Hub; check the branch, tag or commit") from err
    except HFValidationError as err:
        raise ModelError(
            f"{name} is neither a local folder nor a valid Hub model id ({one_line(err)}); give an existing folder "
            "or an id such as 'org/name'"
        ) from err
    except (LocalEntryNotFoundError, OfflineModeIsEnabled) as err:
        from huggingface_hub import constants

        if constants.HF_HUB_OFFLINE:
            why = "HF_HUB_OFFLINE is set and no copy of it is cached"
            fix = "unset HF_HUB_OFFLINE, or download it where there is network access and pass its local folder"
        else:
            cause = root_cause(err)
            why = f"the Hub at {constants.ENDPOINT} cannot be reached ({one_line(cause)}) and no copy is cached"
            fix = "check the connection (and HF_ENDPOINT), or download it elsewhere and pass its local folder"
        raise ModelError(f"could not fetch {name} (revision {revision or 'default'}): {why}; {fix}") from err
    except (HfHubHTTPError, *transport_errors()) as err:
        from huggingface_hub import constants

        raise ModelError(
            f"could not fetch {name} (revision {revision or 'default'}) from the Hub at {constants.ENDPOINT}: "
            f"{one_line(err)}; check the connection (and HF_ENDPOINT), or download it elsewhere and pass its local "
            "folder"
        ) from err
