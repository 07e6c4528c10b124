"""One exception family. Every error a person can act on is a PipelineError:
its message is a single line saying what went wrong and what to do."""


class PipelineError(Exception):
    """Base class: ``str(err)`` is the one-line reason shown to the user."""

    exit_code = 2

    def __init__(self, message: str, hint: str = ""):
        self.message = message
        self.hint = hint
        super().__init__(f"{message} ({hint})" if hint else message)


class InputError(PipelineError):
    """The input media, metadata or options are unusable."""


class JobError(PipelineError):
    """The job folder is missing, malformed or asks for something impossible."""


class ModelNotFound(PipelineError):
    """A model could not be resolved offline."""


class StageFailed(PipelineError):
    """A stage could not do its work."""

    exit_code = 1
