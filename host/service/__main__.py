"""``python -m host.service`` (make serve): the HTTP API with uvicorn on HOST:PORT."""

from __future__ import annotations

import sys

from host.service.app import check_listen, create_app
from host.service.options import is_loopback, service_options, watch_options
from shared import log as logging_setup
from shared.errors import PipelineError

log = logging_setup.get_logger("host.service")


def main() -> int:
    logging_setup.configure()
    try:
        options = service_options()
        watch = watch_options()
    except PipelineError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    check_listen(options)
    import uvicorn

    app = create_app(options, watch=watch)
    reach = "loopback only" if is_loopback(options.host) else "the container's port, published on the host's loopback"
    log.info("listening on http://%s:%d (token %s); jobs run on the %s executor", options.host, options.port,
             "required" if options.api_token else f"not required: {reach}", options.executor)
    uvicorn.run(app, host=options.host, port=options.port, log_config=None, access_log=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
