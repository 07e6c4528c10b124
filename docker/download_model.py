"""Download one Hugging Face model repository into the model cache.

Run by ``make models`` inside the asr image (it has huggingface_hub), with
network, as the container user; ``HF_HOME`` points into the mounted cache, so
the stages later find the snapshot offline (shared/models.py). A token is read
from ``HF_TOKEN`` in the environment, never from the command line.

    python download_model.py Systran/faster-whisper-large-v3 [revision]
"""

import os
import sys


def main(argv: list[str]) -> int:
    if not 1 <= len(argv) <= 2:
        print("usage: download_model.py REPO_ID [REVISION]", file=sys.stderr)
        return 2
    os.environ["HF_HUB_OFFLINE"] = "0"
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

    repo_id = argv[0]
    revision = argv[1] if len(argv) == 2 else None
    try:
        path = snapshot_download(repo_id, revision=revision)
    except GatedRepoError:
        print(f"error: {repo_id} is gated: accept its terms on huggingface.co and set HF_TOKEN", file=sys.stderr)
        return 1
    except RepositoryNotFoundError:
        print(f"error: no repository {repo_id} (or it is private: set HF_TOKEN)", file=sys.stderr)
        return 1
    except (HfHubHTTPError, OSError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        print(f"error: cannot download {repo_id}: {reason} (network, proxy CA bundle, or HF_TOKEN?)", file=sys.stderr)
        return 1
    print(f"{repo_id} -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
