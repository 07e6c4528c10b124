"""``python -m host.service`` (make serve): the HTTP API with uvicorn on HOST:PORT."""

from __future__ import annotations

import sys

from host.service.app import check_listen, create_app
from host.service.options import service_options, watch_options
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
    log.info("listening on http://%s:%d (token %s)", options.host, options.port,
             "required" if options.api_token else "not required: loopback only")
    uvicorn.run(app, host=options.host, port=options.port, log_config=None, access_log=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
