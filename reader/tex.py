"""Readable TeX: clean the TeX left in scraped titles and abstracts, where the reading is sure.

Much of the digest's TeX lost its backslashes when the page was scraped
(``varepsilon^2``, ``{mathbb R}^n``, ``{it misaligned}``). :func:`clean_tex`
turns what has one unambiguous reading into plain Unicode text and leaves
everything else exactly as it was:

- emphasis and fonts (``{\\em x}``, ``\\emph{x}``, ``\\textit{x}``, ``{it x}``,
  ``{\\tt x}``, ``{\\bf x}``, ``{\\sc x}``) lose their markup; :func:`tex_spans`
  also returns where they were, with a style name ("italic", "bold", "mono",
  "smallcaps") for the UI to apply;
- escapes are unescaped (``1\\%`` -> ``1%``, ``\\&``, ``\\_``, ``\\#``, ``\\$``,
  ``\\{``, ``\\}``), ``\\eg``/``\\ie``/``\\etal`` spelled out, accents composed
  (``Poincar\\'e`` -> ``Poincaré``), TeX quotes (````x''`` and ```x'``) curled;
- braces around a plain word are dropped (``{GSM8K}`` -> ``GSM8K``, ``Norouzi{-}Fard``);
- ``mathbb``/``mathcal``/``mathfrak`` letters become their Unicode letters
  (``{mathbb R}^n`` -> ``ℝⁿ``);
- inside math (a run of non-space characters holding ``^``, ``_``, ``=``, ``<`` or
  ``>``), Greek names, ``ell`` and ``infty`` become letters (``varepsilon^2`` -> ``ε²``);
  with a backslash (``\\alpha``) they do anywhere;
- command words whose backslash was lost become symbols: names no English word spells
  (:data:`COMMANDS`: ``leq``, ``rightarrow``, ``nabla``, ``sqrt``, ``varepsilon``) anywhere,
  and they make their run math; English-looking ones (:data:`MATH_COMMANDS`: ``in``,
  ``times``, ``ll``) only inside math. Names glued together or to one variable letter split
  (``drightarrowR`` -> ``d→R``, ``nvarepsilon`` -> ``nε``, ``tgeq`` -> ``t≥``) unless the
  letters are an English word (``all``, ``noting``); ``big``/``left``/``right`` before a
  bracket only size it and vanish; ``(varepsilon,delta)`` and ``leq alpha`` read as math;
- well-formed math (``$\\mathcal{O}(\\log n)$``, ``\\frac{1}{2}``, ``\\tilde{O}``, ``K^\\top``)
  reads too; dollars go only around what is surely math (``$5 and $10`` keeps them);
- super- and subscripts become Unicode only when every character has a form
  (``^2`` -> ``²``, ``N^{-alpha}`` -> ``N⁻ᵅ``, ``w_{min}`` -> ``wₘᵢₙ``; ``n^{3/2}`` stays),
  and ``^*`` is written ``*``.

URLs are never touched by these rules: each is replaced by its clean form from
:func:`reader.links.find_urls` (``projection\\_ntk`` -> ``projection_ntk``), and a
``url{url}`` leftover keeps one copy, as :func:`reader.links.clean_urls_in_text` does.

Export and copy should keep the raw text; this is for showing and searching.
Pure: no Textual, no I/O.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from reader.links import find_urls

# Private-use characters mark styled regions and escaped symbols while the rules run.
_STYLE_START = {"italic": "\ue000", "bold": "\ue001", "mono": "\ue002", "smallcaps": "\ue003"}
_STYLE_OF = {v: k for k, v in _STYLE_START.items()}
_STYLE_END = "\ue00f"
_ESCAPED = {"_": "\ue010", "^": "\ue011", "{": "\ue012", "}": "\ue013", "%": "%", "&": "&", "#": "#", "$": "$"}
_UNESCAPE = {v: k for k, v in _ESCAPED.items() if v != k}
_PRIVATE = re.compile("[\ue000-\ue01f]")

# Text that can hold nothing for us to clean: skip the rules.
_MAYBE_TEX = re.compile(r"[\\{}^_`=<>$]|math(?:bb|cal|frak|scr|rm|bf)")
# $...$ and $$...$$ around math: the dollars go when what they hold is surely math (a command,
# a script, a group, or at most three characters), so "$5 and $10" keeps its dollars.
_DOLLARS = re.compile(r"(?<![\\$])(\$\$?)([^$]{1,400}?)(?<![\\$])\1(?!\$)")
_SURELY_MATH = re.compile(r"[\\^_{]|^\S{1,3}$")

_FONT_STYLE = {
    "em": "italic",
    "it": "italic",
    "sl": "italic",
    "bf": "bold",
    "tt": "mono",
    "sc": "smallcaps",
    "boldsymbol": "bold",
    "bm": "bold",
    "mathbf": "bold",
    "emph": "italic",
    "textit": "italic",
    "textsl": "italic",
    "mathit": "italic",
    "textbf": "bold",
    "texttt": "mono",
    "mathtt": "mono",
    "textsc": "smallcaps",
}
# {\em x}, {em x}, {\bf x}, {boldsymbol x}: a font switch at the start of a group without braces inside.
_FONT_GROUP = re.compile(r"\{\\?(em|it|sl|bf|tt|sc|boldsymbol|bm|mathbf)\s+([^{}\\]*(?:\\[%&_#$][^{}\\]*)*)\}")
# \emph{x}, textit{x}: a font command with one argument without braces inside.
# \text{CE}, \mathrm{softmax}, \operatorname{tr}: upright text inside math reads as its letters.
_TEXT_COMMAND = re.compile(r"\\(?:text|textrm|textnormal|textsf|mathrm|mathsf|operatorname)\{([^{}\\]*)\}")
# \tilde{O}, \hat x, \bar{x}: a math accent on one letter composes with it.
_MATH_ACCENTS = {
    **{"tilde": "\u0303", "widetilde": "\u0303", "hat": "\u0302", "widehat": "\u0302", "bar": "\u0304"},
    **{"overline": "\u0305", "vec": "\u20d7", "dot": "\u0307", "ddot": "\u0308", "check": "\u030c"},
}
_MATH_ACCENT = re.compile(
    r"\\(" + "|".join(sorted(_MATH_ACCENTS, key=len, reverse=True)) + r")(?:\{([A-Za-z])\}|\s+([A-Za-z])(?![A-Za-z]))"
)
_TRANSPOSE = re.compile(r"\^(?:\{\\top\}|\\top(?![A-Za-z])|\{\\intercal\}|\\intercal(?![A-Za-z]))")
_FONT_COMMAND = re.compile(r"(?:\\|(?<![A-Za-z]))(emph|textit|textsl|textbf|texttt|textsc|mathit|mathtt)\{([^{}]*)\}")

_ACCENTS = {
    "'": "\u0301",
    "`": "\u0300",
    '"': "\u0308",
    "^": "\u0302",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "c": "\u0327",
    "v": "\u030c",
    "u": "\u0306",
    "H": "\u030b",
    "k": "\u0328",
    "r": "\u030a",
}
_ACCENT = re.compile(r"\\(['`\"^~=.])\s*(?:\{([A-Za-z])\}|([A-Za-z]))|\\([cvuHkr])(?:\{([A-Za-z])\}|\s+([A-Za-z])\b)")
_ESCAPE = re.compile(r"\\([%&_#$^{}])")
_ABBREVIATIONS = {"eg": "e.g.", "ie": "i.e.", "etal": "et al.", "cf": "cf.", "vs": "vs.", "etc": "etc."}
_ABBREVIATION = re.compile(r"\\(eg|ie|etal|cf|vs|etc)(?![A-Za-z])")
_DOUBLE_QUOTES = re.compile(r"``([^`'\"\n]{1,200})''")
_SINGLE_QUOTES = re.compile(r"(?<![\w`'])`([^`'\"\n]{1,100})'(?![\w'])")

_ALPHABET = re.compile(
    r"(\{)?(?:\\|(?<![A-Za-z]))(mathbb|mathcal|mathfrak|mathscr|mathrm|mathbf)\s*"
    r"(?:\{([A-Za-z])\}|([A-Za-z])(?![A-Za-z]))(\})?"
)
_LETTERLIKE = {  # the letters Unicode placed in Letterlike Symbols instead
    ("DOUBLE-STRUCK", "C"): "ℂ",
    ("DOUBLE-STRUCK", "H"): "ℍ",
    ("DOUBLE-STRUCK", "N"): "ℕ",
    ("DOUBLE-STRUCK", "P"): "ℙ",
    ("DOUBLE-STRUCK", "Q"): "ℚ",
    ("DOUBLE-STRUCK", "R"): "ℝ",
    ("DOUBLE-STRUCK", "Z"): "ℤ",
    ("SCRIPT", "B"): "ℬ",
    ("SCRIPT", "E"): "ℰ",
    ("SCRIPT", "F"): "ℱ",
    ("SCRIPT", "H"): "ℋ",
    ("SCRIPT", "I"): "ℐ",
    ("SCRIPT", "L"): "ℒ",
    ("SCRIPT", "M"): "ℳ",
    ("SCRIPT", "R"): "ℛ",
    ("SCRIPT", "e"): "ℯ",
    ("SCRIPT", "g"): "ℊ",
    ("SCRIPT", "o"): "ℴ",
    ("FRAKTUR", "C"): "ℭ",
    ("FRAKTUR", "H"): "ℌ",
    ("FRAKTUR", "I"): "ℑ",
    ("FRAKTUR", "R"): "ℜ",
    ("FRAKTUR", "Z"): "ℨ",
}
_ALPHABET_HINT = re.compile(r"math(?:bb|cal|frak|scr|rm|bf)")
_ALPHABET_NAME = {"mathbb": "DOUBLE-STRUCK", "mathcal": "SCRIPT", "mathscr": "SCRIPT", "mathfrak": "FRAKTUR"}

# Names TeX writes as \name, with the letter each stands for.
SYMBOLS = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ϵ",
    "varepsilon": "ε",
    "zeta": "ζ",
    "eta": "η",
    "theta": "θ",
    "vartheta": "ϑ",
    "iota": "ι",
    "kappa": "κ",
    "lambda": "λ",
    "mu": "μ",
    "nu": "ν",
    "xi": "ξ",
    "pi": "π",
    "varpi": "ϖ",
    "rho": "ρ",
    "varrho": "ϱ",
    "sigma": "σ",
    "varsigma": "ς",
    "tau": "τ",
    "upsilon": "υ",
    "phi": "ϕ",
    "varphi": "φ",
    "chi": "χ",
    "psi": "ψ",
    "omega": "ω",
    "Gamma": "Γ",
    "Delta": "Δ",
    "Theta": "Θ",
    "Lambda": "Λ",
    "Xi": "Ξ",
    "Pi": "Π",
    "Sigma": "Σ",
    "Upsilon": "Υ",
    "Phi": "Φ",
    "Psi": "Ψ",
    "Omega": "Ω",
    "ell": "ℓ",
    "infty": "∞",
}
# Commands no English word spells: where the scrape lost their backslash, their letters still
# mean the command wherever they stand (tgeq 0, |nabla F|, sqrt(kappa), F:R^drightarrowR), and
# they make the run of text around them math.
COMMANDS = {
    "leq": "≤",
    "geq": "≥",
    "neq": "≠",
    "leqslant": "⩽",
    "geqslant": "⩾",
    "rightarrow": "→",
    "leftarrow": "←",
    "Rightarrow": "⇒",
    "Leftarrow": "⇐",
    "leftrightarrow": "↔",
    "Leftrightarrow": "⇔",
    "longrightarrow": "⟶",
    "mapsto": "↦",
    "nabla": "∇",
    "sqrt": "√",
    "cdot": "·",
    "cdots": "⋯",
    "ldots": "…",
    "circ": "∘",
    "otimes": "⊗",
    "oplus": "⊕",
    "subseteq": "⊆",
    "supseteq": "⊇",
    "emptyset": "∅",
    "varnothing": "∅",
    "forall": "∀",
    "notin": "∉",
    "setminus": "∖",
    "propto": "∝",
    "langle": "⟨",
    "rangle": "⟩",
    "lfloor": "⌊",
    "rfloor": "⌋",
    "lceil": "⌈",
    "rceil": "⌉",
    "infty": "∞",
    "varepsilon": "ε",
    "vartheta": "ϑ",
    "varphi": "φ",
    "varrho": "ϱ",
    "varsigma": "ς",
    "varpi": "ϖ",
}
# Commands whose names are English words or inside them (all, bin, sometimes, partial): read
# only inside math.
MATH_COMMANDS = {
    "ll": "≪",
    "gg": "≫",
    "in": "∈",
    "times": "×",
    "pm": "±",
    "mp": "∓",
    "sim": "∼",
    "simeq": "≃",
    "approx": "≈",
    "equiv": "≡",
    "cup": "∪",
    "cap": "∩",
    "subset": "⊂",
    "supset": "⊃",
    "perp": "⊥",
    "mid": "∣",
    "partial": "∂",
    "le": "≤",
    "ge": "≥",
}
# Operator names, which read as themselves; known so that a glued one (minbig, nlog) splits.
_OPERATORS = frozenset([
    "log", "ln", "exp", "int", "min", "max", "argmin", "argmax", "sup", "inf", "lim", "liminf", "limsup",
    "det", "sin", "cos", "tan", "Pr", "poly", "polylog",
])  # fmt: skip
# Size commands before a delimiter (big( left[ Bigr|) only make it taller: they read as nothing.
_SIZES = frozenset(["big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "left", "right"])
_DELIMITERS = "()[]|.\\\ue012\ue013"
# English words that would split into a letter and a command (a+ll, b+in, notin+g, circ+a).
_WORDS = frozenset([
    "all", "ill", "bin", "din", "fin", "gin", "kin", "pin", "tin", "win", "yin", "egg", "age",
    "noting", "circa", "wrangle", "bright", "fright", "wright", "aright", "cleft",
])  # fmt: skip
# Commands read only with their backslash: without it they are common words (to, ne).
_BACKSLASH_ONLY = {"to": "→", "ne": "≠", "ni": "∋", "gets": "←", "iff": "⟺", "sum": "∑", "prod": "∏", "int": "∫"}
_READINGS = {**SYMBOLS, **COMMANDS, **MATH_COMMANDS}
_LONGEST = max(map(len, [*_READINGS, *_OPERATORS, *_SIZES]))
# Names long enough to be told apart when glued to a one-letter factor (nvarepsilon, kepsilon).
_LONG = frozenset(n for n in SYMBOLS if len(n) >= 5)
_GLUABLE = frozenset([*_LONG, *COMMANDS, *MATH_COMMANDS, *_OPERATORS, *_SIZES])
_BACKSLASHED = re.compile(
    r"\\(" + "|".join(sorted([*_READINGS, *_BACKSLASH_ONLY], key=len, reverse=True)) + r")(?![A-Za-z])"
)
_BACKSLASHED_SIZE = re.compile(r"\\(?:" + "|".join(sorted(_SIZES, key=len, reverse=True)) + r")(?=[()\[\]|.]|\\[{}|])")
_BACKSLASHED_OPERATOR = re.compile(r"\\(" + "|".join(sorted(_OPERATORS, key=len, reverse=True)) + r")(?![A-Za-z])")
_MATH_MARK = re.compile(r"[\^_=<>]")
# Cheap hints that a text holds a command word (checked with ``in`` before any regex).
_COMMAND_HINTS = (
    *("leq", "geq", "neq", "arrow", "nabla", "sqrt", "cdot", "dots", "circ", "infty", "frac{", "mapsto"),
    *("varepsilon", "vartheta", "varphi", "varrho", "varsigma", "varpi", "varnothing", "subseteq", "supseteq"),
    *("notin", "forall", "emptyset", "setminus", "propto", "langle", "rangle", "lfloor", "rfloor", "lceil", "rceil"),
    *("big(", "big[", "Big(", "Big[", "bigl", "Bigl", "bigg", "Bigg", "left(", "left[", "left|"),
    *("right)", "right]", "right|"),
    *_LONG,
)
# (varepsilon,delta): a bracketed list of two or more Greek names is math.
_GREEK_NAME = "(?:" + "|".join(sorted(SYMBOLS, key=len, reverse=True)) + ")"
_GREEK_TUPLE = re.compile(r"(?<![A-Za-z])\((" + _GREEK_NAME + r"(?:,\s?" + _GREEK_NAME + r")+)\)")
_RELATIONS = frozenset("=<>≤≥≠≪≫∈∼≈≡→⇒↦⊂⊆")
_ONE_GREEK = re.compile(r"(" + _GREEK_NAME + r")([.,;:)]*)")
_OPENING_SIZE = re.compile(r"(?:left|[bB]igg?l?)[(\[|]")
_SQRT_GROUP = re.compile(r"√\{([^{}\s]+)\}")
_FRAC = re.compile(r"(?<![A-Za-z])\\?frac\{([^{}]+)\}\{([^{}]+)\}")
_SPACES = re.compile(r"(\s+)")
_LETTERS = re.compile(r"[A-Za-z]+")

_PLAIN_BRACES = re.compile(r"(?<![\w}\])^_\\\ue012])\{([A-Za-z0-9][A-Za-z0-9.\-]*)\}(?![\w{^_])")
_BRACED_HYPHEN = re.compile(r"\{-\}")

SUPERSCRIPTS = dict(
    zip(
        "0123456789+-=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVWαβγδθφχ",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵅᵝᵞᵟᶿᵠᵡ",
    )
)
SUBSCRIPTS = dict(
    zip(
        "0123456789+-=()aehijklmnoprstuvxβγρφχ",
        "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ",
    )
)
_SUPER_SYMBOL = {"*": "*", "star": "*", "ast": "*", "dagger": "†", "prime": "′"}
# ^ or _ after something, then {group}, one digit (not followed by another), one letter
# (not followed by a letter or digit), or a starred/daggered/primed mark.
_SCRIPT = re.compile(
    r"(?<=[^\s\ue010\ue011])([\^_])"
    r"(?:\{([^{}\s]+)\}|(\d)(?!\d)|([A-Za-z\u0370-\u03ff])(?![A-Za-z0-9])|(\*|star|dagger|prime)(?![A-Za-z]))"
)


def _compose(base: str, accent: str) -> str | None:
    composed = unicodedata.normalize("NFC", base + _ACCENTS[accent])
    return composed if len(composed) == 1 else None


def _accent(match: re.Match[str]) -> str:
    accent = match.group(1) or match.group(4)
    base = match.group(2) or match.group(3) or match.group(5) or match.group(6)
    return _compose(base, accent) or match.group(0)


def _math_accent(match: re.Match[str]) -> str:
    return unicodedata.normalize("NFC", (match.group(2) or match.group(3)) + _MATH_ACCENTS[match.group(1)])


def _styled(style: str, text: str) -> str:
    return _STYLE_START[style] + text + _STYLE_END


def _font_group(match: re.Match[str]) -> str:
    return _styled(_FONT_STYLE[match.group(1)], match.group(2))


def _font_command(match: re.Match[str]) -> str:
    return _styled(_FONT_STYLE[match.group(1)], match.group(2))


def _alphabet_letter(kind: str, letter: str) -> str | None:
    if kind == "mathrm":
        return letter
    if kind == "mathbf":
        return _styled("bold", letter)
    name = _ALPHABET_NAME[kind]
    if (name, letter) in _LETTERLIKE:
        return _LETTERLIKE[(name, letter)]
    case = "CAPITAL" if letter.isupper() else "SMALL"
    try:
        return unicodedata.lookup(f"MATHEMATICAL {name} {case} {letter.upper()}")
    except KeyError:
        return None


def _alphabet(match: re.Match[str]) -> str:
    opening, kind, braced, bare, closing = match.groups()
    letter = _alphabet_letter(kind, braced or bare)
    if letter is None:
        return match.group(0)
    if opening and closing:  # {mathbb R}: the group was only there for the font
        return letter
    return (opening or "") + letter + (closing or "")


def _split_names(letters: str) -> list[str] | None:
    """``letters`` as a run of command names, with at most one variable letter before and after.

    ``drightarrowR`` -> d, rightarrow, R; ``nvarepsilon`` -> n, varepsilon; ``Thetabig`` ->
    Theta, big. A letter after a name only follows a command (never a Greek or math-only
    name: deltas, int). Fewest pieces win, then a letter before over one after (xin: x, in);
    None when the letters are not such a run (fraction, all).
    """
    best: list[str] | None = None
    for head, tail in ((0, 0), (1, 0), (0, 1), (1, 1)):
        middle = letters[head : len(letters) - tail]
        names = _names(middle) if middle else None
        if names is None or (tail and names[-1] not in COMMANDS):
            continue
        if best is None or len(names) + head + tail < len(best):
            best = [letters[:head]] * head + names + [letters[len(letters) - tail :]] * tail
    return best


def _names(text: str) -> list[str] | None:
    """``text`` cut into gluable names, fewest first, or None."""
    if text in _GLUABLE or text in SYMBOLS:
        return [text]
    best: list[str] | None = None
    for cut in range(min(len(text) - 1, _LONGEST), 1, -1):
        first = text[:cut]
        if first in _GLUABLE:
            rest = _names(text[cut:])
            if rest is not None and (best is None or len(rest) + 1 < len(best)):
                best = [first, *rest]
    return best


@functools.lru_cache(maxsize=8192)
def _glued(letters: str) -> tuple[str, ...] | None:
    """The names ``letters`` is glued from, where that reading is safe (see :func:`_split_names`)."""
    if letters.lower() in _WORDS or len(letters) > 40:
        return None
    pieces = _split_names(letters)
    return tuple(pieces) if pieces is not None else None


def _read_letters(letters: str, after: str) -> str:
    """A run of letters inside math as it reads: names become symbols (see :func:`_split_names`)."""
    if letters in SYMBOLS:
        return SYMBOLS[letters]
    pieces = _glued(letters)
    if pieces is None:
        return letters
    if any(p in _SIZES for p in pieces[:-1]) or (pieces[-1] in _SIZES and not (after and after in _DELIMITERS)):
        return letters  # a size command only reads as nothing right before its delimiter
    if len(pieces) > 1 and any(p in SYMBOLS and p not in _LONG for p in pieces):
        return letters  # a short Greek name glued to letters is a word (spin, omicron)
    return "".join("" if p in _SIZES else _READINGS.get(p, p) for p in pieces)


def _math_letters(run: str) -> str:
    return _LETTERS.sub(lambda m: _read_letters(m.group(0), run[m.end() : m.end() + 1]), run)


def _holds_command(run: str, hints: list[str]) -> bool:
    """Whether a run of text spells a command no English word spells (tgeq, |nabla, sqrt(kappa)).

    ``hints`` are the command hints found in the whole text: a run without one holds none.
    """
    if not any(hint in run for hint in hints):
        return False
    for match in _LETTERS.finditer(run):
        pieces = _glued(match.group(0))
        if not pieces:
            continue
        if any(p in COMMANDS for p in pieces):
            return True  # leq, nabla, varepsilon
        glued = len(pieces) > 1
        if glued and any(p in _LONG for p in pieces):
            return True  # a Greek name glued to another name or a letter (kepsilon, sigmaleft)
        if glued and pieces[-1] in _SIZES and run[match.end() : match.end() + 1] in ("(", "["):
            return True  # a size glued to its bracket (Obig(, minbig()
    return False


def _closes_size(run: str) -> bool:
    """Whether a run holds a size command glued before a closing bracket (Mright), {x}right))."""
    if "right" not in run and "ig" not in run:
        return False
    for match in _LETTERS.finditer(run):
        pieces = _glued(match.group(0))
        if pieces and pieces[-1] in _SIZES and run[match.end() : match.end() + 1] in (")", "]", "|"):
            return True
    return False


def _one_greek(run: str) -> str:
    found = _ONE_GREEK.fullmatch(run)
    return SYMBOLS[found.group(1)] + found.group(2) if found else run


def _sqrt_group(match: re.Match[str]) -> str:
    inside = match.group(1)
    return "√" + (inside if len(inside) == 1 else f"({inside})")


def _math_tokens(text: str, hints: list[str]) -> str:
    """Command and symbol names as symbols inside math.

    Math is a run of non-space characters holding ^ _ = < or >, or spelling a command no
    English word spells (tgeq, sqrt(kappa), Obig(); after a run that opened a size (Oleft(),
    one that closes one (Mright)); a lone Greek name after a relation (leq alpha); a bracketed
    list of Greek names ((varepsilon,delta)). ``hints``: the command hints the text held.
    """
    commands = bool(hints)
    if "(" in text:
        text = _GREEK_TUPLE.sub(lambda m: "(" + _LETTERS.sub(lambda n: SYMBOLS[n.group(0)], m.group(1)) + ")", text)
    if not commands and not _MATH_MARK.search(text):
        return text
    if commands and "frac" in text:
        if "√{" in text:  # \frac{1}{\sqrt{n}}: the root first, so the fraction has no inner group
            text = _SQRT_GROUP.sub(_sqrt_group, text)
        text = _FRAC.sub(_fraction, text)
    parts = _SPACES.split(text)
    previous = ""
    sized = False  # a math run opened a size (left(, big[): a later run may close it
    for i in range(0, len(parts), 2):
        part = parts[i]
        plain = part.isalnum()  # most runs: a word, which holds no mark and no bracket
        if (
            (not plain and _MATH_MARK.search(part))
            or (commands and _holds_command(part, hints))
            or (sized and not plain and _closes_size(part))
        ):
            sized = sized or bool(_OPENING_SIZE.search(part))
            part = _math_letters(part)
            if "√{" in part:
                part = _SQRT_GROUP.sub(_sqrt_group, part)
        elif previous[-1:] in _RELATIONS:
            part = _one_greek(part)
        parts[i] = previous = part
    return "".join(parts)


def _fraction(match: re.Match[str]) -> str:
    top, bottom = (g if g.removeprefix("√").isalnum() else f"({g})" for g in match.groups())
    return f"{top}/{bottom}"


def _script(match: re.Match[str]) -> str:
    mark, group, digit, letter, symbol = match.groups()
    start = match.start()
    text = match.string
    if mark == "_":
        # A subscript follows a short base (x_i, ell_2, sum_j, w_{min}) or a bracket, never
        # a longer word or a chain of them (snake_case_names stay as they are).
        i = start
        while i > 0 and text[i - 1].isalpha():
            i -= 1
        if start - i > 3 or (i > 0 and text[i - 1] in "_\ue010"):
            return match.group(0)
    content = group or digit or letter or symbol
    if mark == "^" and content in _SUPER_SYMBOL:
        return _SUPER_SYMBOL[content]
    table = SUPERSCRIPTS if mark == "^" else SUBSCRIPTS
    if all(ch in table for ch in content):
        return "".join(table[ch] for ch in content)
    if group:  # the group stays; scripts inside it may still read (R^{d_x} -> R^{dₓ})
        return mark + "{" + _SCRIPT.sub(_script, group) + "}"
    return match.group(0)


def _clean_piece(text: str) -> str:
    """Apply the rules to text with no URL in it; styles stay as private-use markers."""
    hints = [hint for hint in _COMMAND_HINTS if hint in text]
    if not hints and not _MAYBE_TEX.search(text):
        return text
    if "$" in text:
        text = _DOLLARS.sub(lambda m: m.group(2) if _SURELY_MATH.search(m.group(2)) else m.group(0), text)
    backslash, brace = "\\" in text, "{" in text
    if brace:
        text = _FONT_GROUP.sub(_font_group, text)
        text = _FONT_COMMAND.sub(_font_command, text)
    if backslash:
        if brace:
            text = _TEXT_COMMAND.sub(lambda m: m.group(1), text)
        text = _MATH_ACCENT.sub(_math_accent, text)
        text = _TRANSPOSE.sub("ᵀ", text)
        text = _ACCENT.sub(_accent, text)
        text = _ESCAPE.sub(lambda m: _ESCAPED.get(m.group(1), m.group(1)), text)
        text = _ABBREVIATION.sub(lambda m: _ABBREVIATIONS[m.group(1)], text)
    if "`" in text:
        text = _DOUBLE_QUOTES.sub(lambda m: "“" + m.group(1) + "”", text)
        text = _SINGLE_QUOTES.sub(lambda m: "‘" + m.group(1) + "’", text)
    if "math" in text and _ALPHABET_HINT.search(text):
        text = _ALPHABET.sub(_alphabet, text)
    if backslash:
        text = _BACKSLASHED_SIZE.sub("", text)
        text = _BACKSLASHED.sub(lambda m: _READINGS.get(m.group(1)) or _BACKSLASH_ONLY[m.group(1)], text)
        text = _BACKSLASHED_OPERATOR.sub(lambda m: m.group(1), text)
        text = text.replace("\\|", "‖")
    text = _math_tokens(text, hints)
    if "^" in text or "_" in text:
        text = _SCRIPT.sub(_script, text)
    if brace:
        text = _BRACED_HYPHEN.sub("-", text)
        text = _PLAIN_BRACES.sub(lambda m: m.group(1), text)
    return text


def _pieces(text: str) -> list[tuple[str, bool]]:
    """Split text into (piece, is_url) with URLs in their clean form (as clean_urls_in_text)."""
    out: list[tuple[str, bool]] = []
    pos = 0
    previous = None
    for start, end, url in find_urls(text):
        if previous == url and text[pos:start] == "{" and text[end : end + 1] == "}":
            pos = end + 1  # url{url}: a \href leftover keeps one copy
            continue
        out.append((text[pos:start], False))
        out.append((url, True))
        pos = end
        previous = url
    out.append((text[pos:], False))
    return out


def tex_spans(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    """Return the cleaned text and (start, end, style) spans of emphasis and fonts in it.

    Styles are "italic", "bold", "mono" and "smallcaps"; offsets index the cleaned text.
    Text that already holds the private-use characters the rules use is returned as it is.
    """
    if _PRIVATE.search(text):
        return text, []
    marked = "".join(piece if is_url else _clean_piece(piece) for piece, is_url in _pieces(text))
    if not _PRIVATE.search(marked):
        return marked, []
    out: list[str] = []
    spans: list[tuple[int, int, str]] = []
    open_styles: list[tuple[int, str]] = []
    length = 0
    for ch in marked:
        if ch in _STYLE_OF:
            open_styles.append((length, _STYLE_OF[ch]))
        elif ch == _STYLE_END:
            start, style = open_styles.pop()
            if length > start:
                spans.append((start, length, style))
        else:
            ch = _UNESCAPE.get(ch, ch)
            out.append(ch)
            length += len(ch)
    spans.sort()
    return "".join(out), spans


def clean_tex(text: str) -> str:
    """The text with its TeX cleaned where the reading is unambiguous (see the module doc)."""
    return tex_spans(text)[0]
