"""Command line: `macp-codegen generate | check | breaking | describe`."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .config import Config, check_sdk_package, load_config
from .describe import FORMATS as DESCRIBE_FORMATS
from .errors import EXIT_BAD_INPUT, EXIT_DRIFT, EXIT_OK, CodegenError, SourceLocation
from .findings import FORMATS

if TYPE_CHECKING:  # imported when needed: a no-op `check` never pays for protoc and Jinja2
    from .project import Project

# Flags that choose the inputs and output; a fix command repeats the ones that were given.
_CONFIG_FLAGS = (
    ("project_root", "--project-root"),
    ("proto_root", "--proto-root"),
    ("output", "--output"),
    ("templates", "--templates"),
    ("include", "--include"),
    ("descriptor_set", "--descriptor-set"),
    ("bindings", "--bindings"),
    ("sdk_package", "--sdk-package"),
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        config = _config(args)
        # A no-op check answers from the digest and the manifest alone: it never imports the
        # generator proper (protoc, Jinja2, the model).
        if args.command == "check" and not args.full and _up_to_date(config, args.quiet):
            return EXIT_OK
        try:
            from .project import Project
        except ModuleNotFoundError as exc:
            # The generator's tools (jinja2, grpcio-tools, ...) are the `codegen` extra: say
            # what to install instead of ending in an ImportError traceback.
            print(
                f"macp-codegen: error: the generator's tools are not installed ({exc.name} is "
                "missing); install them with `pip install 'macp-codegen[codegen]'`",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT

        handler = {
            "generate": _generate,
            "check": _check,
            "breaking": _breaking,
            "describe": _describe,
        }[args.command]
        return handler(Project(config), args)
    except CodegenError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_BAD_INPUT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="macp-codegen", description=__doc__)
    parser.add_argument("--version", action="version", version=f"macp-codegen {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    commands = {}
    for name, text in (
        ("generate", "regenerate the SDK from the protos"),
        ("check", "exit 1 with a diff if the generated SDK is out of date; writes nothing"),
        ("breaking", "exit 1 if the protos break the wire or the SDK of an earlier version"),
        ("describe", "print the modes, actions, fields and options as the generator sees them"),
    ):
        command = sub.add_parser(name, help=text)
        loudness = command.add_mutually_exclusive_group()
        loudness.add_argument(
            "-v", "--verbose", action="store_true", help="say more (every file, locations)"
        )
        loudness.add_argument(
            "-q", "--quiet", action="store_true", help="print nothing unless something is wrong"
        )
        command.add_argument("--project-root", type=Path)
        command.add_argument("--proto-root", type=Path)
        command.add_argument("--output", type=Path)
        command.add_argument("--templates", type=Path, help="folder overlaid on the templates")
        command.add_argument("--include", type=Path, action="append", default=[])
        command.add_argument("--descriptor-set", type=Path, help="a FileDescriptorSet file")
        command.add_argument("--bindings", help="an installed bindings package, e.g. macp")
        command.add_argument(
            "--sdk-package", help="generate a mode package of this name for the installed SDK"
        )
        commands[name] = command
    generate = commands["generate"]
    generate.add_argument(
        "--watch", action="store_true", help="regenerate when proto/ or templates/ change"
    )
    generate.add_argument("--interval", type=float, default=0.5, help="seconds between polls")
    check = commands["check"]
    check.add_argument("--no-diff", action="store_true", help="list files, print no diffs")
    check.add_argument(
        "--full", action="store_true", help="always regenerate, skipping the manifest fast path"
    )
    breaking = commands["breaking"]
    breaking.add_argument(
        "--against", required=True, help="a git ref (e.g. origin/main) or a descriptor set file"
    )
    breaking.add_argument("--format", choices=FORMATS, default="text")
    describe = commands["describe"]
    describe.add_argument("--format", choices=DESCRIBE_FORMATS, default="tree")
    return parser


def _config(args: argparse.Namespace) -> Config:
    root = (args.project_root or Path.cwd()).resolve()
    config = load_config(root)
    if args.sdk_package is not None:
        check_sdk_package(args.sdk_package, SourceLocation("--sdk-package"))
    return config.with_overrides(
        proto_root=args.proto_root.resolve() if args.proto_root else None,
        output=args.output.resolve() if args.output else None,
        templates=args.templates.resolve() if args.templates else None,
        include=tuple(p.resolve() for p in args.include) or None,
        descriptor_set=args.descriptor_set.resolve() if args.descriptor_set else None,
        bindings=args.bindings,
        sdk_package=args.sdk_package,
    )


def _generate(project: Project, args: argparse.Namespace) -> int:
    if not args.watch:
        _generate_once(project, args)
        return EXIT_OK
    from .compile import TOOLKIT_PROTO_ROOT
    from .render import BUILTIN_TEMPLATES
    from .watch import watch

    config = project.config
    roots = [config.proto_root, BUILTIN_TEMPLATES, TOOLKIT_PROTO_ROOT, *config.include]
    if config.templates is not None:
        roots.append(config.templates)
    shown = ", ".join(str(r) for r in roots)
    print(f"macp-codegen: watching {shown} (Ctrl-C stops)", flush=True)
    watch(roots, lambda: _generate_reporting_errors(project, args), interval=args.interval)
    print("macp-codegen: stopped watching")
    return EXIT_OK


def _generate_once(project: Project, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    build, report = project.generate()
    if args.quiet:
        return
    for note in build.notes:
        print(f"note     {note}")
    if args.verbose:
        for path in report.written:
            print(f"wrote    {path}")
        for path in report.removed:
            print(f"removed  {path}")
    print(
        summary_line(len(build.model.modes), report.summary(), project, started),
        flush=True,
    )


def summary_line(modes: int, files: str, project: Project, started: float) -> str:
    """The one line a run ends with: modes, files written / unchanged / removed, time."""
    where = _shown_path(project.config.output, project.config.project_root)
    seconds = time.perf_counter() - started
    plural = "" if modes == 1 else "s"
    return f"macp-codegen: {modes} mode{plural}, {files} in {where} ({seconds:.2f} s)"


def _shown_path(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix() or "."
    except ValueError:
        return str(path)


def _generate_reporting_errors(project: Project, args: argparse.Namespace) -> None:
    """In watch mode bad input is reported and the loop goes on: the fix is one save away."""
    try:
        _generate_once(project, args)
    except CodegenError as exc:
        print(exc.render(), file=sys.stderr, flush=True)


def _up_to_date(config: Config, quiet: bool) -> bool:
    """The fast path of `check`: the inputs digest and the output match the manifest."""
    from .check import unchanged_since_generate

    if not unchanged_since_generate(config):
        return False
    if not quiet:
        print("macp-codegen: generated code is up to date (inputs and output unchanged)")
    return True


def _check(project: Project, args: argparse.Namespace) -> int:
    from .check import find_drift, write_report
    from .scaffold import StaleScaffoldError

    try:
        drift = find_drift(project)
    except StaleScaffoldError as exc:
        # The user's projection needs an edit generate cannot make for them: drift, with the fix.
        print(exc.render())
        return EXIT_DRIFT
    if drift.in_sync and args.quiet:
        return EXIT_OK
    config = project.config
    diffs = not (args.no_diff or args.quiet)
    write_report(drift, config.output, config.project_root, _fix_command(args), sys.stdout, diffs)
    return EXIT_OK if drift.in_sync else EXIT_DRIFT


def _breaking(project: Project, args: argparse.Namespace) -> int:
    from .breaking import find_breaking
    from .findings import render

    findings = find_breaking(project, args.against)
    if findings or not args.quiet:
        sys.stdout.write(render(findings, args.against, args.format))
    return EXIT_DRIFT if findings else EXIT_OK


def _describe(project: Project, args: argparse.Namespace) -> int:
    from .describe import render_json, render_tree

    model = project.build().model
    if args.format == "json":
        sys.stdout.write(render_json(model))
    elif not args.quiet:
        sys.stdout.write(render_tree(model, verbose=args.verbose))
    return EXIT_OK


def _fix_command(args: argparse.Namespace) -> str:
    """The generate command that makes this check pass: same inputs, same output."""
    words = ["macp-codegen", "generate"]
    for attribute, flag in _CONFIG_FLAGS:
        value = getattr(args, attribute)
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                words += [flag, str(item)]
    return shlex.join(words)


if __name__ == "__main__":
    raise SystemExit(main())
