"""Command line: `macp-codegen generate | check | describe`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .config import Config, load_config
from .errors import EXIT_BAD_INPUT, EXIT_DRIFT, EXIT_OK, CodegenError
from .project import Project


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        config = _config(args)
        handler = {"generate": _generate, "check": _check, "describe": _describe}[args.command]
        return handler(Project(config), args)
    except CodegenError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_BAD_INPUT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="macp-codegen", description=__doc__)
    parser.add_argument("--version", action="version", version=f"macp-codegen {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("generate", "regenerate the SDK from the protos"),
        ("check", "exit 1 if the generated SDK is out of date; writes nothing"),
        ("describe", "print the modes and actions the generator finds"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("--project-root", type=Path, default=Path.cwd())
        command.add_argument("--proto-root", type=Path)
        command.add_argument("--output", type=Path)
        command.add_argument("--templates", type=Path, help="folder overlaid on the templates")
        command.add_argument("--include", type=Path, action="append", default=[])
        command.add_argument("--descriptor-set", type=Path, help="a FileDescriptorSet file")
        command.add_argument("--bindings", help="an installed bindings package, e.g. macp")
    return parser


def _config(args: argparse.Namespace) -> Config:
    root = args.project_root.resolve()
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
    build, report = project.generate()
    for note in build.notes:
        print(f"note     {note}")
    for path in report.written:
        print(f"wrote    {path}")
    for path in report.removed:
        print(f"removed  {path}")
    print(f"macp-codegen: {report.summary()} in {project.config.output}")
    return EXIT_OK


def _check(project: Project, args: argparse.Namespace) -> int:
    _, plan = project.plan()
    if plan.in_sync:
        print("macp-codegen: generated code is up to date")
        return EXIT_OK
    for label, paths in (("stale", plan.changed), ("missing", plan.new), ("extra", plan.stale)):
        for path in paths:
            print(f"{label:8} {path}")
    print("macp-codegen: generated code is out of date; fix with `macp-codegen generate`")
    return EXIT_DRIFT


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


if __name__ == "__main__":
    raise SystemExit(main())
