"""The option tables of roles/*/README.md, written from each role's meta/argument_specs.yml.

    python scripts/role_docs.py           rewrite the generated part of every role README
    python scripts/role_docs.py --check   fail (listing every problem) unless, for every role:
        - the README's generated part is what this script writes from meta/argument_specs.yml;
        - every variable of defaults/main.yml is an option of the spec, and every option the spec
          gives a default is in defaults/main.yml;
        - the spec's default of each option is the value defaults/main.yml gives it when nothing
          else is set (a template such as "{{ tiflux_targets | default([]) }}" is rendered by
          ansible with no other variable defined).

Needs ansible-core (make lint runs it from .venv).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN = "<!-- BEGIN options: generated from meta/argument_specs.yml by scripts/role_docs.py, do not edit -->"
END = "<!-- END options -->"
_MARKUP = re.compile(r"\b([CIBOVMRE]|RV)\(([^()]*)\)")


def plain(text):
    """Ansible doc markup as Markdown."""
    def one(match):
        kind, inner = match.groups()
        if kind == "B":
            return "**%s**" % inner
        if kind == "I":
            return "*%s*" % inner
        return "`%s`" % inner
    return _MARKUP.sub(one, text)


def cell(text):
    return " ".join(str(text).split()).replace("|", "\\|")


def render_default(value):
    return "`%s`" % json.dumps(value, ensure_ascii=False)


def table(entry_point, spec):
    lines = ["### Entry point `%s`" % entry_point, "",
             "| variable | type | default | description |", "|---|---|---|---|"]
    for name, option in sorted(spec.get("options", {}).items()):
        kind = option.get("type", "str")
        if kind == "list" and option.get("elements"):
            kind = "list of %s" % option["elements"]
        if option.get("choices"):
            kind += ": " + ", ".join("`%s`" % c for c in option["choices"])
        if option.get("required"):
            default = "required"
        elif "default" in option:
            default = render_default(option["default"])
        else:
            default = "(none)"
        description = option.get("description", "")
        if isinstance(description, list):
            description = " ".join(description)
        if option.get("no_log"):
            description += " Secret: never shown (no_log)."
        lines.append("| `%s` | %s | %s | %s |" % (name, cell(kind), cell(default), cell(plain(description))))
    return "\n".join(lines)


def generated(root, role):
    with open(os.path.join(root, "roles", role, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        specs = yaml.safe_load(handle)["argument_specs"]
    parts = [BEGIN, "## Variables", "",
             "Every variable, its type and its real default, as `ansible-doc -t role tokenops.tiflux.%s` shows them." % role,
             ""]
    parts += [table(entry_point, spec) + "\n" for entry_point, spec in specs.items()]
    parts.append(END)
    return "\n".join(parts)


def readme_path(root, role):
    return os.path.join(root, "roles", role, "README.md")


def split_readme(root, role):
    """(before, generated, after) of a README; a README without the markers gets them at its end."""
    try:
        with open(readme_path(root, role), encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None
    if BEGIN not in text or END not in text:
        return text.rstrip("\n") + "\n\n", "", "\n"
    before, rest = text.split(BEGIN, 1)
    middle, after = rest.split(END, 1)
    return before, BEGIN + middle + END, after


def rendered_defaults(root, role):
    """defaults/main.yml as the role sees it when nothing else is set."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    with open(os.path.join(root, "roles", role, "defaults", "main.yml"), encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or {}
    trusted = dict((name, trust_as_template(value) if isinstance(value, str) else value) for name, value in raw.items())
    templar = Templar(loader=DataLoader(), variables=trusted)
    values, problems = {}, []
    for name, value in trusted.items():
        try:
            values[name] = templar.template(value)
        except Exception as exc:  # pylint: disable=broad-except
            problems.append("roles/%s/defaults/main.yml: %s cannot be rendered without other variables: %s"
                            % (role, name, str(exc).splitlines()[0]))
    return values, problems


def _same(spec_default, value):
    if isinstance(spec_default, bool) or isinstance(value, bool):
        return spec_default is value or (isinstance(value, str) and value.lower() == str(spec_default).lower())
    return spec_default == value or (not isinstance(spec_default, str) and str(spec_default) == str(value))


def check_defaults(root, role):
    with open(os.path.join(root, "roles", role, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        specs = yaml.safe_load(handle)["argument_specs"]
    options = {}
    for spec in specs.values():
        options.update(spec.get("options", {}))
    values, problems = rendered_defaults(root, role)
    where = "roles/%s" % role
    for name in sorted(set(values) - set(options)):
        problems.append("%s/defaults/main.yml: %s is not described in meta/argument_specs.yml" % (where, name))
    for name, option in sorted(options.items()):
        if "default" in option and name not in values:
            problems.append("%s/meta/argument_specs.yml: %s has default %s but defaults/main.yml does not set it"
                            % (where, name, json.dumps(option["default"])))
        elif name in values and "default" not in option and not option.get("required"):
            problems.append("%s/meta/argument_specs.yml: %s shows no default, defaults/main.yml gives it %s"
                            % (where, name, json.dumps(values[name], default=str)))
        elif name in values and "default" in option and not _same(option["default"], values[name]):
            problems.append("%s/meta/argument_specs.yml: %s shows default %s, defaults/main.yml gives it %s"
                            % (where, name, json.dumps(option["default"]), json.dumps(values[name], default=str)))
    return problems


def roles(root):
    base = os.path.join(root, "roles")
    return sorted(name for name in os.listdir(base) if os.path.isfile(os.path.join(base, name, "meta", "argument_specs.yml")))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; fail on any difference")
    parser.add_argument("--root", default=REPO, help="the collection's root (default: this repository)")
    args = parser.parse_args(argv)
    root = args.root
    problems = []
    for role in roles(root):
        parts = split_readme(root, role)
        want = generated(root, role)
        if parts is None:
            problems.append("roles/%s/README.md is missing" % role)
        elif args.check:
            if parts[1] != want:
                problems.append("roles/%s/README.md: the variables table differs from meta/argument_specs.yml:"
                                " run python scripts/role_docs.py" % role)
        elif parts[1] != want:
            with open(readme_path(root, role), "w", encoding="utf-8") as handle:
                handle.write(parts[0] + want + parts[2])
            print("wrote roles/%s/README.md" % role)
        if args.check:
            problems += check_defaults(root, role)
    for problem in problems:
        print(problem, file=sys.stderr)
    if args.check and not problems:
        print("role docs: %s agree with their meta/argument_specs.yml and defaults/main.yml" % ", ".join(roles(root)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
