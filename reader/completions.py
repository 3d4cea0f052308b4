"""Shell completion scripts for bash, zsh and fish, generated from the CLI's argument parser.

Commands, their options, the values of options with choices (``--format``) and file
names where a command or option takes a path all come from ``build_parser()``, so the
scripts follow the CLI as it changes.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field

SHELLS = ("bash", "zsh", "fish")
# Options and positionals that name files or folders.
_PATH_DESTS = {"db", "file", "paths"}


@dataclass
class Option:
    flags: list[str]
    help: str
    takes_value: bool
    choices: list[str] = field(default_factory=list)
    is_path: bool = False


@dataclass
class Command:
    name: str
    help: str
    options: list[Option]
    takes_paths: bool  # some positional names files


def _options(parser: argparse.ArgumentParser) -> list[Option]:
    out = []
    for action in parser._actions:
        if not action.option_strings:
            continue
        out.append(
            Option(
                flags=list(action.option_strings),
                help=action.help if action.help and action.help != argparse.SUPPRESS else "",
                takes_value=action.nargs != 0,
                choices=[str(c) for c in action.choices or []],
                is_path=action.dest in _PATH_DESTS,
            )
        )
    return out


def describe(parser: argparse.ArgumentParser) -> tuple[list[Option], list[Command]]:
    """The top-level options and every command with its options."""
    commands = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                takes_paths = any(a.dest in _PATH_DESTS for a in sub._actions if not a.option_strings)
                commands.append(Command(name, helps.get(name, ""), _options(sub), takes_paths))
    return _options(parser), commands


def _words(items: list[str]) -> str:
    return " ".join(items)


def bash(prog: str, top: list[Option], commands: list[Command]) -> str:
    func = "_" + re.sub(r"\W", "_", prog)
    valued = sorted({f for c in commands for o in c.options + top if o.takes_value for f in o.flags})
    lines = [
        f'# bash completion for {prog}: eval "$({prog} completions bash)", or save it as',
        f"# ~/.local/share/bash-completion/completions/{prog}",
        f"{func}() {{",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" cmd="" i',
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        '        case "${COMP_WORDS[i]}" in',
        f"            {'|'.join(valued) or '--'}) ((i++)) ;;",
        "            -*) ;;",
        '            *) cmd="${COMP_WORDS[i]}"; break ;;',
        "        esac",
        "    done",
        '    case "$prev" in',
    ]
    seen: set[str] = set()
    for option in top + [o for c in commands for o in c.options]:
        if not option.takes_value or option.flags[0] in seen:
            continue
        seen.add(option.flags[0])
        pattern = "|".join(option.flags)
        if option.choices:
            lines.append(
                f'        {pattern}) COMPREPLY=($(compgen -W "{_words(option.choices)}" -- "$cur")); return ;;'
            )
        elif option.is_path:
            lines.append(f'        {pattern}) COMPREPLY=($(compgen -f -- "$cur")); return ;;')
        else:
            lines.append(f"        {pattern}) return ;;")
    lines += ["    esac", '    case "$cmd" in']
    top_flags = _words([f for o in top for f in o.flags])
    names = _words([c.name for c in commands])
    lines += [
        '        "")',
        f'            if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "{top_flags}" -- "$cur"))',
        f'            else COMPREPLY=($(compgen -W "{names}" -- "$cur") $(compgen -f -- "$cur")); fi ;;',
    ]
    for command in commands:
        flags = _words([f for o in command.options for f in o.flags])
        if command.name == "completions":
            rest = f'COMPREPLY=($(compgen -W "{_words(list(SHELLS))}" -- "$cur"))'
        elif command.name == "config":
            rest = 'COMPREPLY=($(compgen -W "path" -- "$cur"))'
        elif command.takes_paths:
            rest = 'COMPREPLY=($(compgen -f -- "$cur"))'
        else:
            rest = ":"
        lines += [
            f"        {command.name})",
            f'            if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "{flags}" -- "$cur")); else {rest}; fi ;;',
        ]
    lines += ["    esac", "}", f"complete -o filenames -F {func} {prog}", ""]
    return "\n".join(lines)


def _zsh_text(text: str) -> str:
    return re.sub(r"[\[\]:'\\`$]", "", text).replace("(", "").replace(")", "")


def _zsh_spec(option: Option) -> list[str]:
    help_text = _zsh_text(option.help)
    if option.choices:
        action = f":value:({_words(option.choices)})"
    elif option.is_path:
        action = ":path:_files"
    elif option.takes_value:
        action = ":value: "
    else:
        action = ""
    return [f"'{flag}[{help_text}]{action}'" for flag in option.flags]


def zsh(prog: str, top: list[Option], commands: list[Command]) -> str:
    func = "_" + re.sub(r"\W", "_", prog)
    lines = [
        f"#compdef {prog}",
        f"# zsh completion for {prog}: save as _{prog} in a folder on $fpath, or",
        f"# source <({prog} completions zsh) after compinit",
        f"{func}() {{",
        '    local curcontext="$curcontext" state line',
        "    local -a commands",
        "    commands=(",
    ]
    lines += [f"        '{c.name}:{_zsh_text(c.help)}'" for c in commands]
    lines += ["    )", "    _arguments -C \\"]
    lines += [f"        {spec} \\" for o in top for spec in _zsh_spec(o)]
    lines += [
        "        '1: :->command' \\",
        "        '*:: :->args'",
        "    case $state in",
        "        command) _describe -t commands command commands; _files ;;",
        "        args)",
        "            case $words[1] in",
    ]
    for command in commands:
        specs = [spec for o in command.options for spec in _zsh_spec(o)]
        if command.name == "completions":
            specs.append(f"'1:shell:({_words(list(SHELLS))})'")
        elif command.name == "config":
            specs.append("'1:action:(path)'")
        elif command.takes_paths:
            specs.append("'*:path:_files'")
        lines.append(f"                {command.name}) _arguments {' '.join(specs)} ;;")
    lines += [
        "            esac ;;",
        "    esac",
        "}",
        "# autoloaded from $fpath: complete now; sourced (after compinit): register",
        "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then",
        f'    {func} "$@"',
        "else",
        f"    compdef {func} {prog}",
        "fi",
        "",
    ]
    return "\n".join(lines)


def _fish_text(text: str) -> str:
    return text.replace("\\", "").replace("'", "")


def fish(prog: str, top: list[Option], commands: list[Command]) -> str:
    names = _words([c.name for c in commands])
    lines = [
        f"# fish completion for {prog}: save as ~/.config/fish/completions/{prog}.fish",
        f"complete -c {prog} -f",
        f"complete -c {prog} -n '__fish_use_subcommand' -F",
    ]

    def option_line(condition: str, option: Option) -> str:
        parts = [f"complete -c {prog}"]
        if condition:
            parts.append(f"-n '{condition}'")
        for flag in option.flags:
            parts.append(f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}")
        if option.choices:
            parts.append(f"-x -a '{_words(option.choices)}'")
        elif option.is_path:
            parts.append("-r -F")
        elif option.takes_value:
            parts.append("-x")
        if option.help:
            parts.append(f"-d '{_fish_text(option.help)}'")
        return " ".join(parts)

    for option in top:
        lines.append(option_line("", option))
    for command in commands:
        lines.append(f"complete -c {prog} -n '__fish_use_subcommand' -a {command.name} -d '{_fish_text(command.help)}'")
        condition = f"__fish_seen_subcommand_from {command.name}"
        for option in command.options:
            if any(option.flags == o.flags for o in top):
                continue
            lines.append(option_line(condition, option))
        if command.name == "completions":
            lines.append(f"complete -c {prog} -n '{condition}' -x -a '{_words(list(SHELLS))}'")
        elif command.name == "config":
            lines.append(f"complete -c {prog} -n '{condition}' -x -a 'path'")
        elif command.takes_paths:
            lines.append(f"complete -c {prog} -n '{condition}' -F")
    lines.append(f"# commands: {names}")
    lines.append("")
    return "\n".join(lines)


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    """The completion script for ``shell`` (one of :data:`SHELLS`)."""
    top, commands = describe(parser)
    return {"bash": bash, "zsh": zsh, "fish": fish}[shell](parser.prog, top, commands)
