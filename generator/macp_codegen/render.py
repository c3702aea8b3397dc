"""Step 3: model -> file contents, through Jinja2 templates that only read the model."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import jinja2
import jinja2.bccache
import jinja2.filters

from .errors import CodegenError, SourceLocation
from .literals import python_literal

# Package data: the templates ship inside the wheel.
BUILTIN_TEMPLATES = Path(str(resources.files("macp_codegen").joinpath("templates")))


class _BytecodeCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept between runs: compiling the 22 built-in templates costs about a
    third of a one-mode `generate`. Entries are keyed by template path and checked against the
    source's checksum, so an edited template is compiled again. Best effort: a cache that
    cannot be read or written is skipped."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except OSError:
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _bytecode_cache(directory: Path | None) -> jinja2.BytecodeCache | None:
    try:
        # None: jinja2's own per-user folder in the temporary directory (mode 0700, checked).
        return _BytecodeCache(str(directory) if directory is not None else None)
    except (OSError, RuntimeError):  # no usable temporary directory
        return None


def make_environment(overlay: Path | None = None, cache: Path | None = None) -> jinja2.Environment:
    """User templates in `overlay` win over built-in ones with the same relative name.
    Compiled templates are cached in `cache` (by default jinja2's per-user temporary folder)."""
    loaders: list[jinja2.BaseLoader] = []
    if overlay is not None and overlay.resolve() != BUILTIN_TEMPLATES:
        loaders.append(jinja2.FileSystemLoader(str(overlay)))
    loaders.append(jinja2.FileSystemLoader(str(BUILTIN_TEMPLATES)))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        bytecode_cache=_bytecode_cache(cache),
        # One environment per generation: a template is loaded once and not checked again for
        # changes (a stat per render).
        auto_reload=False,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["py"] = python_literal
    env.filters["wordwrap"] = _wordwrap
    return env


@jinja2.pass_environment
def _wordwrap(
    environment: jinja2.Environment,
    s: str,
    width: int = 79,
    break_long_words: bool = True,
    wrapstring: str | None = None,
    break_on_hyphens: bool = True,
) -> str:
    """jinja2's wordwrap, remembered: every mode wraps the same docstrings (textwrap is the
    costliest filter of a large generation), and the result depends only on the arguments and
    the environment's newline sequence."""
    newline = wrapstring if wrapstring is not None else environment.newline_sequence
    return _wrapped(s, width, break_long_words, newline, break_on_hyphens)


@functools.lru_cache(maxsize=4096)
def _wrapped(s: str, width: int, break_long_words: bool, newline: str, hyphens: bool) -> str:
    return jinja2.filters.do_wordwrap(_ENVIRONMENT, s, width, break_long_words, newline, hyphens)


# do_wordwrap reads the environment only for the default newline, which _wordwrap passes.
_ENVIRONMENT = jinja2.Environment()


def render(env: jinja2.Environment, template: str, context: Mapping[str, object]) -> str:
    try:
        text = env.get_template(template).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise CodegenError(
            SourceLocation(exc.filename or template, exc.lineno),
            exc.message or str(exc),
            "fix the template syntax",
        ) from None
    except jinja2.UndefinedError as exc:
        # StrictUndefined: a template read something the model does not have.
        raise CodegenError(
            SourceLocation(_template_file(env, template), _failing_line(exc, template)),
            f"template {template} reads an undefined name: {exc.message}",
            "templates may only read the model's fields (see generator/macp_codegen/model.py)",
        ) from None
    # One trailing newline, whatever the template's last line did.
    return text.rstrip("\n") + "\n"


def _template_file(env: jinja2.Environment, template: str) -> str:
    source = env.get_template(template).filename
    return source or template


def _failing_line(exc: BaseException, template: str) -> int:
    """The template line being rendered when the error was raised (0 when unknown)."""
    tb = exc.__traceback__
    line = 0
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(template.rsplit("/", 1)[-1]):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
