"""Every user-facing error of archc, in one module that every layer imports: the root `ArchError`
(rendered diagnostics, exit code 1 on the command line, no traceback) and one narrow subclass per
kind of failure, with the range of codes each uses. Torch-free, and importing nothing of archc but
the diagnostics model, so the language front end and the engine alike can raise them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from archc.diagnostics import Diagnostic, Span, render_all, render_json


class ArchError(Exception):
    """A user-facing error. Carries its diagnostics (each with file, line, column, message)."""

    def __init__(
        self,
        diagnostics: Sequence[Diagnostic] | str,
        sources: Mapping[str, str] | None = None,
        *,
        help: str | None = None,
        code: str = "E0001",
    ) -> None:
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic(code=code, message=diagnostics, help=help)]
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        self.sources: dict[str, str] = dict(sources or {})
        super().__init__(self.diagnostics[0].message if self.diagnostics else "error")

    def render(self) -> str:
        return render_all(self.diagnostics, self.sources)

    def to_json(self) -> list[dict[str, object]]:
        return render_json(self.diagnostics)

    @classmethod
    def at(
        cls,
        span: Span | None,
        message: str,
        *,
        code: str,
        help: str | None = None,
        sources: Mapping[str, str] | None = None,
    ) -> ArchError:
        return cls([Diagnostic(code=code, message=message, span=span, help=help)], sources)


class SpecSyntaxError(ArchError):
    """The text is not a well-formed `.arch` spec."""


class SemanticError(ArchError):
    """The spec parses but says something impossible (unknown slot, bad value, ...)."""


class RegistryError(ArchError):
    """A block registration or grammar fragment is invalid (duplicate name, bad fragment)."""


class LoweringError(ArchError):
    """A graph cannot become a module (bad choice, incompatible weights)."""


class WeightsError(ArchError):
    """A weights file is missing, unreadable or does not fit the network."""


class ExportError(ArchError):
    """An export (ONNX, ExecuTorch, LiteRT), its simplification or its check failed."""


class MissingRuntimeError(ExportError):
    """An export format or device needs a runtime package that is not installed (code E0620); the
    help line is the command that installs it."""


class UnsupportedOpError(ExportError):
    """A runtime (ExecuTorch, LiteRT) cannot take an operation of the network (code E0621); the
    message names the operation."""


class ProfileError(ArchError):
    """A latency profiler or device failed."""


class SearchError(ArchError):
    """The search space or a search run is invalid."""


class DataError(ArchError):
    """A dataset folder or image is missing or malformed."""


# ---------------------------------------------------------------- the engine's errors


class DistillError(SearchError):
    """A distillation run or a surrogate bank is invalid: bad settings, a run folder made with other
    settings, a bank made for another teacher, a choice without a trained surrogate (codes E11xx)."""


class SaliencyError(ArchError):
    """Saliency cannot be computed (untrained weights, bad settings) or a saliency file cannot
    resolve a spec's `exclude top K by METRIC` lines (codes E10xx)."""


class AcceleratorError(ArchError):
    """An accelerator name is unknown or names hardware this machine does not have (codes E150x)."""


class MemoryLimitError(ArchError):
    """A network, batch or frame does not fit in memory (codes E152x)."""


class TileError(ArchError):
    """A tile size cannot hold its overlap (codes E153x)."""


class ClusterError(ArchError):
    """The execution backend cannot run the work: bad address, Ray not installed or unreachable,
    a resource no node of the cluster offers, a run folder a worker cannot see (codes E17xx)."""


class WeakTeacherError(ArchError):
    """The teacher does not beat the blurred input on the validation crops (codes E18xx)."""


class VerifyError(ArchError):
    """A run folder cannot be verified: no export to verify, its files or the search's data gone,
    settings that do not fit (codes E19xx)."""


class ArchWarning(UserWarning):
    """Something a user should know that does not stop the work (the command line prints it as a
    `warning:` line)."""


class ProgressLostWarning(ArchWarning):
    """A backend lost its progress channel: the run goes on with fewer progress lines."""
