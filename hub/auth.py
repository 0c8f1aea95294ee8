"""Token lookup and error translation shared by every upload."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


class HubError(Exception):
    """An upload that cannot proceed. The message states what failed and what to do next."""


def get_token() -> str:
    """Return the token from HF_TOKEN or the huggingface_hub login; raise HubError when there is none."""
    from huggingface_hub import get_token as stored_token

    token = os.environ.get("HF_TOKEN") or stored_token()
    if not token:
        raise HubError("No Hugging Face token: set HF_TOKEN or run `hf auth login`, then try again.")
    return token


@contextlib.contextmanager
def hub_errors(repo_id: str) -> Iterator[None]:
    """Translate huggingface_hub and network exceptions into HubError with a next step.

    The token never appears in the message: huggingface_hub does not put it in exception text, and
    nothing here adds it.
    """
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

    try:
        yield
    except RepositoryNotFoundError as error:
        raise HubError(f"Repository {repo_id} not found, or the token cannot see it. "
                       "Check the id and that the token's account owns it.") from error
    except HfHubHTTPError as error:
        status = getattr(getattr(error, "response", None), "status_code", None)
        if status in (401, 403):
            raise HubError(f"No permission to write to {repo_id} (HTTP {status}). "
                           "Use a token with write access to that namespace.") from error
        raise HubError(f"The Hub rejected the request for {repo_id}: {error}") from error
    except (ConnectionError, TimeoutError, OSError) as error:
        raise HubError(f"Cannot reach the Hub for {repo_id} ({type(error).__name__}). "
                       "Check the network connection, or use --dry-run to write the files locally.") from error


def make_api(api: Any = None) -> Any:
    """Return the HfApi to upload with: the one given (tests pass a recording one) or a new one."""
    if api is not None:
        return api
    from huggingface_hub import HfApi

    return HfApi(token=get_token(), library_name="facedemo")


def commit_folder(api: Any, repo_id: str, folder: Path, message: str, repo_type: str | None = None,
                  revision: str | None = None) -> None:
    """Upload every file under folder to the repo root in one commit."""
    from huggingface_hub import CommitOperationAdd

    operations = [CommitOperationAdd(path_in_repo=str(path.relative_to(folder)), path_or_fileobj=str(path))
                  for path in sorted(folder.rglob("*")) if path.is_file()]
    api.create_commit(repo_id, operations, commit_message=message, repo_type=repo_type, revision=revision)


def push_dataset(dataset: Any, repo_id: str, private: bool = False) -> None:
    """Push a DatasetDict with ``datasets``' own push_to_hub, using the shared token lookup."""
    token = get_token()
    with hub_errors(repo_id):
        dataset.push_to_hub(repo_id, private=private, token=token)
    logger.info("Pushed dataset to %s", repo_id)
