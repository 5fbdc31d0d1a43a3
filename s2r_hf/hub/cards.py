"""Cards on the Hub: reading a repo's README.md, to merge into it (results, a model-index) or to check whose it is.

Its metadata is read with s2r_hf.core.cards.split_card, the same reader as a local folder's card.
"""

from __future__ import annotations

from pathlib import Path

from s2r_hf.core.errors import PublishError
from s2r_hf.core.http_errors import transport_errors

CARD_FILE = "README.md"


def read_remote_card(repo_id: str, repo_type: str, token: str | None = None, revision: str | None = None) -> str:
    """The README.md of a Hub repo ("" when the repo or its card does not exist yet); other failures (a refused
    token, no connection) raise PublishError."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HfHubHTTPError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        path = HfApi(token=token).hf_hub_download(repo_id, CARD_FILE, repo_type=repo_type, revision=revision)
    except (EntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError):
        return ""
    except (HfHubHTTPError, OSError, *transport_errors()) as err:
        raise PublishError(f"could not read the card of {repo_id} ({err}); check the token and the network") from err
    return Path(path).read_text(encoding="utf-8")
