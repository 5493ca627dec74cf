"""datamaestro completion: shell completion scripts for bash, zsh and fish.

The scripts are generated from the command-line parser (commands, options,
choices); dataset ids are completed at TAB time by ``datamaestro completion
--ids``, which reads the registry index (no definition module is run when the
index is fresh).

Install::

    bash:  eval "$(datamaestro completion bash)"            # in ~/.bashrc
    zsh:   eval "$(datamaestro completion zsh)"             # in ~/.zshrc, after compinit
    fish:  datamaestro completion fish > ~/.config/fish/completions/datamaestro.fish
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from datamaestro.cli.main import build_parser
from datamaestro.errors import UsageError
from datamaestro.registry import Registry

NAME = "completion"
HELP = "print a shell completion script (bash, zsh or fish)"
SHELLS = ("bash", "zsh", "fish")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shell", nargs="?", choices=SHELLS, help="the shell to complete for")
    parser.add_argument("--ids", action="store_true", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    if args.ids:
        registry = Registry()
        aliases = sorted(alias for alias, ids in registry.aliases().items() if len(ids) == 1)
        print("\n".join(registry.ids() + aliases))
        return 0
    if args.shell is None:
        raise UsageError("name a shell: datamaestro completion bash|zsh|fish")

    commands, global_options = describe_parser(build_parser())
    writer = {"bash": bash_script, "zsh": zsh_script, "fish": fish_script}[args.shell]
    print(writer(commands, global_options), end="")
    return 0


@dataclass
class Option:
    """One option of a command, as completion needs it."""

    flags: list[str]
    help: str = ""
    takes_value: bool = False
    choices: list[str] = field(default_factory=list)
    #: "file", "dir" or "" (nothing to complete)
    kind: str = ""


@dataclass
class Command:
    """One sub-command: its options, the choices of its positional, whether it takes ids."""

    name: str
    help: str
    options: list[Option]
    #: 0: no dataset id, 1: one id, 2: any number of ids
    takes_id: int = 0
    words: list[str] = field(default_factory=list)


def _options(parser: argparse.ArgumentParser) -> list[Option]:
    found = []
    for action in parser._actions:
        if not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        metavar = str(action.metavar or action.dest).upper()
        kind = ""
        if action.nargs != 0:
            if "DIR" in metavar or "FOLDER" in metavar:
                kind = "dir"
            elif any(w in metavar for w in ("FILE", "PATH", "OUT")):
                kind = "file"
        found.append(
            Option(
                flags=list(action.option_strings),
                help=(action.help or "").split("(")[0].strip(),
                takes_value=action.nargs != 0,
                choices=[str(c) for c in action.choices or []],
                kind=kind,
            )
        )
    return found


def describe_parser(parser: argparse.ArgumentParser) -> tuple[list[Command], list[Option]]:
    """The commands of ``parser`` and its global options."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {a.dest: a.help or "" for a in sub._choices_actions}
    commands = []
    for name, command in sub.choices.items():
        positionals = [a for a in command._actions if not a.option_strings]
        takes_id = 0
        if positionals and str(positionals[0].metavar or positionals[0].dest).upper() == "ID":
            takes_id = 2 if positionals[0].nargs in ("+", "*") else 1
        commands.append(
            Command(
                name=name,
                help=helps.get(name, ""),
                options=_options(command),
                takes_id=takes_id,
                words=[str(c) for c in (positionals[0].choices or [])] if positionals else [],
            )
        )
    return commands, _options(parser)


def _value_flags(commands: list[Command], global_options: list[Option]) -> list[str]:
    flags = {f for o in global_options if o.takes_value for f in o.flags}
    for c in commands:
        flags.update(f for o in c.options if o.takes_value for f in o.flags)
    return sorted(flags)


def _flags(options: list[Option]) -> str:
    return " ".join(f for o in options for f in o.flags)


def _cases(
    commands: list[Command],
    global_options: list[Option],
    label: str,
    value_label: str,
    reply: Any,
    assign: Any,
) -> str:
    """The body of the shell ``case "$cmd"``: per command, option values then its words.

    ``label``/``value_label`` format a case pattern, ``reply(option)`` completes
    an option's value, ``assign(command)`` sets opts, words and ids.
    """
    top = Command("", "", global_options, words=[c.name for c in commands])
    cases = []
    for c in [top] + commands:
        values = [
            f"                {value_label.format('|'.join(o.flags))} {reply(o)}; return ;;"
            for o in c.options
            if o.takes_value
        ]
        body = [f"        {label.format(c.name)}"]
        if values:
            body += ['            case "$prev" in', *values, "            esac"]
        body.append(f"            {assign(c)} ;;")
        cases.append("\n".join(body))
    return "\n".join(cases)


def bash_script(commands: list[Command], global_options: list[Option]) -> str:
    """The bash completion script."""
    value_flags = "|".join(_value_flags(commands, global_options))

    def reply(o: Option) -> str:
        if o.choices:
            return f'COMPREPLY=($(compgen -W "{" ".join(o.choices)}" -- "$cur"))'
        return f'COMPREPLY=($(compgen -{o.kind[0]} -- "$cur"))' if o.kind else "COMPREPLY=()"

    def assign(c: Command) -> str:
        return f'opts="{_flags(c.options)}"; words="{" ".join(c.words)}"; ids={c.takes_id}'

    cases = _cases(commands, global_options, '"{}")', "{})", reply, assign)
    return f"""\
# bash completion for datamaestro; load it with: eval "$(datamaestro completion bash)"
_datamaestro() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    local cmd="" npos=0 i opts="" words="" ids=0
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${{COMP_WORDS[i]}}" in
            {value_flags}) ((i++)) ;;
            -*) ;;
            *) if [[ -z "$cmd" ]]; then cmd="${{COMP_WORDS[i]}}"; else ((npos++)); fi ;;
        esac
    done
    case "$cmd" in
{cases}
        *) return ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    elif ((npos > 0 && ids < 2)); then
        COMPREPLY=()
    elif ((ids)); then
        COMPREPLY=($(compgen -W "$(command datamaestro completion --ids 2>/dev/null)" -- "$cur"))
    else
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
    fi
}}
complete -F _datamaestro datamaestro
"""


def zsh_script(commands: list[Command], global_options: list[Option]) -> str:
    """The zsh completion script (works sourced, or as ``_datamaestro`` in ``$fpath``)."""
    value_flags = "|".join(_value_flags(commands, global_options))

    def reply(o: Option) -> str:
        if o.choices:
            return f"compadd -- {' '.join(o.choices)}"
        return ("_files -/" if o.kind == "dir" else "_files") if o.kind else ":"

    def assign(c: Command) -> str:
        return f"opts=({_flags(c.options)}); words_=({' '.join(c.words)}); ids={c.takes_id}"

    cases = _cases(commands, global_options, '("{}")', "({})", reply, assign)
    return f"""\
#compdef datamaestro
# zsh completion for datamaestro; load it with: eval "$(datamaestro completion zsh)"
_datamaestro() {{
    local cur="${{words[CURRENT]}}" prev="${{words[CURRENT-1]}}"
    local cmd="" npos=0 i ids=0
    local -a opts words_
    for ((i = 2; i < CURRENT; i++)); do
        case "${{words[i]}}" in
            ({value_flags}) ((i++)) ;;
            (-*) ;;
            (*) if [[ -z "$cmd" ]]; then cmd="${{words[i]}}"; else ((npos++)); fi ;;
        esac
    done
    case "$cmd" in
{cases}
        (*) return ;;
    esac
    if [[ "$cur" == -* ]]; then
        compadd -- $opts
    elif ((npos > 0 && ids < 2)); then
        return
    elif ((ids)); then
        compadd -- ${{(f)"$(command datamaestro completion --ids 2>/dev/null)"}}
    else
        compadd -- $words_
    fi
}}
if [[ "${{zsh_eval_context[-1]}}" == loadautofunc ]]; then
    _datamaestro "$@"
else
    compdef _datamaestro datamaestro
fi
"""


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish_script(commands: list[Command], global_options: list[Option]) -> str:
    """The fish completion script."""
    lines = [
        "# fish completion for datamaestro; install it with:",
        "#   datamaestro completion fish > ~/.config/fish/completions/datamaestro.fish",
        "complete -c datamaestro -f",
    ]

    def option_line(condition: str, o: Option) -> str:
        parts = ["complete -c datamaestro", f"-n {_fish_quote(condition)}"]
        for flag in o.flags:
            parts.append(f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}")
        if o.takes_value:
            parts.append("-r -F" if o.kind and not o.choices else "-x")
            if o.choices:
                parts.append(f"-a {_fish_quote(' '.join(o.choices))}")
        if o.help:
            parts.append(f"-d {_fish_quote(o.help)}")
        return " ".join(parts)

    for o in global_options:
        lines.append(option_line("__fish_use_subcommand", o))
    for c in commands:
        lines.append(
            f"complete -c datamaestro -n '__fish_use_subcommand' -a {c.name} "
            f"-d {_fish_quote(c.help)}"
        )
    for c in commands:
        seen = f"__fish_seen_subcommand_from {c.name}"
        for o in c.options:
            lines.append(option_line(seen, o))
        if c.words:
            lines.append(f"complete -c datamaestro -n '{seen}' -a {_fish_quote(' '.join(c.words))}")
    with_ids = " ".join(c.name for c in commands if c.takes_id)
    if with_ids:
        lines.append(
            f"complete -c datamaestro -n '__fish_seen_subcommand_from {with_ids}' "
            "-a '(command datamaestro completion --ids 2>/dev/null)'"
        )
    return "\n".join(lines) + "\n"
