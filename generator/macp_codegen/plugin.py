"""`protoc-gen-macp-sdk`: the same pipeline as `macp-codegen generate`, as a protoc/buf plugin.

    protoc -Iproto -I$TOOLKIT --macp-sdk_out=generated --macp-sdk_opt=out=generated FILES...
    buf generate   (buf.gen.yaml: `local: protoc-gen-macp-sdk`, `strategy: all`,
                    `opt: [out=generated]`)

($TOOLKIT is the installed toolkit's `macp_codegen/proto` folder, which holds options.proto.)
`strategy: all` matters for buf: the SDK is built from all modes at once, not one per folder.

protoc hands over the compiled descriptors (with comments) and writes the files it gets back,
so the plugin renders from the request: same model, same templates, same formatting. Options,
comma-separated `key=value` in the plugin parameter:
- `out=DIR`: the folder protoc writes to. Projection scaffolds there are the user's: they are
  merged (hooks added, never overwritten) as `generate` does. protoc does not tell a plugin
  its output folder, hence this option; without it, scaffolds are written fresh.
- `proto_root=DIR`: where the policy rule schemas are (default `proto` if it exists).
- `sdk_package=NAME`: generate a mode package of its own (as `--sdk-package`).

Bad input is a located error in the response, which protoc prints and exits non-zero with.
protoc overwrites every file it receives; the generator's manifest is not written.
"""

from __future__ import annotations

import sys
from pathlib import Path

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2

from .errors import CodegenError, SourceLocation

_KNOWN = ("out", "proto_root", "sdk_package")


def _parameters(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or key not in _KNOWN:
            raise CodegenError(
                SourceLocation("--macp-sdk_opt"),
                f"unknown plugin option {item!r}",
                f"use key=value with a key of {', '.join(_KNOWN)}",
            )
        found[key] = value
    return found


def generate(request: plugin_pb2.CodeGeneratorRequest) -> plugin_pb2.CodeGeneratorResponse:
    response = plugin_pb2.CodeGeneratorResponse(
        supported_features=plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL
    )
    try:
        for item in _build(request):
            response.file.add(name=item[0], content=item[1])
    except CodegenError as exc:
        response.error = exc.render()
    return response


def _build(request: plugin_pb2.CodeGeneratorRequest) -> list[tuple[str, str]]:
    # Imported here: the tools load only when a request arrives.
    from .compile import compile_descriptor_set, toolkit_protos
    from .config import Config, check_sdk_package
    from .project import Project

    options = _parameters(request.parameter)
    cwd = Path.cwd()
    proto_root = Path(options.get("proto_root") or ("proto" if (cwd / "proto").is_dir() else "."))
    output = Path(options["out"]) if "out" in options else cwd / ".macp-sdk-plugin-no-output"
    if "sdk_package" in options:
        check_sdk_package(options["sdk_package"], SourceLocation("--macp-sdk_opt"))
    config = Config(
        project_root=cwd,
        proto_root=(cwd / proto_root).resolve(),
        output=(cwd / output).resolve(),
        sdk_package=options.get("sdk_package"),
    )
    descriptor_set = descriptor_pb2.FileDescriptorSet(file=request.proto_file)
    # As from sources: a shipped options file that the inputs import is generated too.
    shipped = toolkit_protos()
    imported = {f.name for f in request.proto_file if f.name in shipped}
    targets = tuple(sorted({*request.file_to_generate, *imported}))
    compiled = compile_descriptor_set(descriptor_set, targets)
    build = Project(config).build(compiled)
    return [(f.path, f.content.decode("utf-8")) for f in build.files]


def main() -> int:
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    sys.stdout.buffer.write(generate(request).SerializeToString())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
