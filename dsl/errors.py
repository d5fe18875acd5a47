"""The exception root of every user-facing error, and its narrow subclasses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .diagnostics import Diagnostic, Span, render_all, render_json


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
        cls, span: Span | None, message: str, *, code: str, help: str | None = None,
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
    """ONNX export, simplification or checking failed."""


class ProfileError(ArchError):
    """A latency profiler or device failed."""


class SearchError(ArchError):
    """The search space or a search run is invalid."""


class DataError(ArchError):
    """A dataset folder or image is missing or malformed."""
