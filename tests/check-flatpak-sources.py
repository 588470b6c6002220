#!/usr/bin/python3
"""Every source of every module in a Flatpak manifest is pinned: archives and
files by sha256, git by commit, and nothing but the app itself comes from a
local directory."""
import json
import sys


def sources_of(module):
    for source in module.get("sources", []):
        yield module.get("name", "?"), source
    for sub in module.get("modules", []):
        if isinstance(sub, dict):
            yield from sources_of(sub)


def main(path):
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    problems = []
    count = 0
    for module in manifest.get("modules", []):
        if not isinstance(module, dict):
            problems.append(f"module given as a file name, not checked: {module}")
            continue
        for name, source in sources_of(module):
            count += 1
            kind = source.get("type")
            if kind in ("archive", "file"):
                if "url" in source and len(source.get("sha256", "")) != 64:
                    problems.append(f"{name}: {kind} {source.get('url')} has no sha256")
                if "path" in source:
                    problems.append(f"{name}: local {kind} {source['path']}")
            elif kind == "git":
                if "commit" not in source:
                    problems.append(f"{name}: git {source.get('url')} has no commit")
            elif kind == "dir":
                if name != manifest.get("modules")[-1].get("name"):
                    problems.append(f"{name}: a local directory source outside the app module")
            elif kind in ("patch", "shell", "script", "inline"):
                pass
            else:
                problems.append(f"{name}: source type {kind} not checked")
    for p in problems:
        print(p)
    print(f"{count} sources, {len(problems)} problems")
    return 1 if problems or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
