"""Command line: `macp-codegen generate | check | breaking | describe`."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .config import Config, load_config
from .errors import EXIT_BAD_INPUT, EXIT_DRIFT, EXIT_OK, CodegenError
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
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        config = _config(args)
        if args.command == "check" and not args.full and _up_to_date(config):
            return EXIT_OK
        from .project import Project

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
        ("describe", "print the modes and actions the generator finds"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("--project-root", type=Path)
        command.add_argument("--proto-root", type=Path)
        command.add_argument("--output", type=Path)
        command.add_argument("--templates", type=Path, help="folder overlaid on the templates")
        command.add_argument("--include", type=Path, action="append", default=[])
        command.add_argument("--descriptor-set", type=Path, help="a FileDescriptorSet file")
        command.add_argument("--bindings", help="an installed bindings package, e.g. macp")
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
    return parser


def _config(args: argparse.Namespace) -> Config:
    root = (args.project_root or Path.cwd()).resolve()
    config = load_config(root)
    return config.with_overrides(
        proto_root=args.proto_root.resolve() if args.proto_root else None,
        output=args.output.resolve() if args.output else None,
        templates=args.templates.resolve() if args.templates else None,
        include=tuple(p.resolve() for p in args.include) or None,
        descriptor_set=args.descriptor_set.resolve() if args.descriptor_set else None,
        bindings=args.bindings,
    )


def _generate(project: Project, args: argparse.Namespace) -> int:
    if not args.watch:
        _generate_once(project)
        return EXIT_OK
    from .render import BUILTIN_TEMPLATES
    from .watch import watch

    config = project.config
    roots = [config.proto_root, BUILTIN_TEMPLATES, *config.include]
    if config.templates is not None:
        roots.append(config.templates)
    shown = ", ".join(str(r) for r in roots)
    print(f"macp-codegen: watching {shown} (Ctrl-C stops)", flush=True)
    watch(roots, lambda: _generate_reporting_errors(project), interval=args.interval)
    print("macp-codegen: stopped watching")
    return EXIT_OK


def _generate_once(project: Project) -> None:
    build, report = project.generate()
    for note in build.notes:
        print(f"note     {note}")
    for path in report.written:
        print(f"wrote    {path}")
    for path in report.removed:
        print(f"removed  {path}")
    print(f"macp-codegen: {report.summary()} in {project.config.output}", flush=True)


def _generate_reporting_errors(project: Project) -> None:
    """In watch mode bad input is reported and the loop goes on: the fix is one save away."""
    try:
        _generate_once(project)
    except CodegenError as exc:
        print(exc.render(), file=sys.stderr, flush=True)


def _up_to_date(config: Config) -> bool:
    """The fast path of `check`: the inputs digest and the output match the manifest."""
    from .check import unchanged_since_generate

    if not unchanged_since_generate(config):
        return False
    print("macp-codegen: generated code is up to date (inputs and output unchanged)")
    return True


def _check(project: Project, args: argparse.Namespace) -> int:
    from .check import find_drift, write_report

    drift = find_drift(project)
    config = project.config
    write_report(
        drift, config.output, config.project_root, _fix_command(args), sys.stdout, not args.no_diff
    )
    return EXIT_OK if drift.in_sync else EXIT_DRIFT


def _breaking(project: Project, args: argparse.Namespace) -> int:
    from .breaking import find_breaking
    from .findings import render

    findings = find_breaking(project, args.against)
    sys.stdout.write(render(findings, args.against, args.format))
    return EXIT_DRIFT if findings else EXIT_OK


def _describe(project: Project, args: argparse.Namespace) -> int:
    model = project.build().model
    for mode in model.modes:
        kind = "standard" if mode.standard else "extension"
        print(f"{mode.id}  ({kind}, {mode.proto_file})  -> {mode.session_class}")
        for action in mode.actions:
            params = ", ".join(f.param for f in action.parameters)
            aliases = f"  (also {', '.join(action.aliases)})" if action.aliases else ""
            print(f"  {action.message_type:16} {action.method}({params}){aliases}")
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
