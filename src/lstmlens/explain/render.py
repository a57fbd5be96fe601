"""Render a :class:`~lstmlens.explain.narration.StepNarration` as text, Markdown or HTML.

All three follow the seed's order: forget gate (f_t), input gate (i_t, "% to remember"),
potential memory (g_t, tanh path), new long-term memory (cell state c_t), output gate (o_t),
new short-term memory (hidden state h_t), Dense prediction. Each section is a list of lines
built once (:func:`sections`) and then dressed for the format, so the three never disagree.
Numbers are printed by :mod:`lstmlens.explain._numbers` only.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from lstmlens.explain._numbers import compact, fixed, parenthesised

if TYPE_CHECKING:
    from lstmlens.explain.narration import GateStep, StepNarration, Term

#: Section keys in the seed's order and their headings.
HEADINGS = {
    "long_term": "New long-term memory (cell state c_t)",
    "short_term": "New short-term memory (hidden state h_t)",
    "dense": "Dense layer: the prediction",
}


def _paren(text: str) -> str:
    """Wrap a printed negative number in parentheses, as the seed does: ``(-0.05)``."""
    return f"({text})" if text.startswith("-") else text


def _term_line(term: Term) -> str:
    if term.source == "bias":
        return f"bias = {compact(term.product)}"
    if term.value is None or term.weight is None:
        return f"{term.label}: {compact(term.product)}"
    return (f"{term.label} ({compact(term.value)}) × {_paren(compact(term.weight))} = "
            f"{compact(term.product)}")


def _sum_line(terms: tuple[Term, ...], total: float) -> str:
    parts = " + ".join(parenthesised(term.product) for term in terms)
    return f"sum: {parts} = {compact(total)}"


def _gate_lines(gate: GateStep) -> list[str]:
    lines = [_term_line(term) for term in gate.terms]
    lines.append(_sum_line(gate.terms, gate.weighted_sum))
    lines.append(f"{gate.symbol} = {gate.activation}({compact(gate.weighted_sum)}) = "
                 f"{fixed(gate.value)}")
    return lines


def sections(narration: StepNarration) -> list[tuple[str, str, list[str], str, list[str]]]:
    """The walk-through as ``(key, heading, lines, meaning, notes)`` in the seed's order."""
    out = []
    by_key = {gate.key: gate for gate in narration.gates}

    def gate_section(key: str) -> tuple[str, str, list[str], str, list[str]]:
        gate = by_key[key]
        return (key, gate.title, _gate_lines(gate), gate.meaning, _notes(narration, key))

    out += [gate_section("forget_gate"), gate_section("input_gate"),
            gate_section("candidate_memory")]
    lt = narration.long_term
    out.append(("long_term", HEADINGS["long_term"], [
        "c_t = f_t × c_{t-1} + i_t × g_t",
        f"    = {fixed(lt.forget_gate)} × {_paren(compact(lt.previous))} + "
        f"{fixed(lt.input_gate)} × {_paren(fixed(lt.candidate_memory))}",
        f"    = {fixed(lt.kept)} + {_paren(fixed(lt.added))} = {fixed(lt.value)}",
    ], lt.meaning, _notes(narration, "long_term")))
    out.append(gate_section("output_gate"))
    st = narration.short_term
    out.append(("short_term", HEADINGS["short_term"], [
        "h_t = o_t × tanh(c_t)",
        f"    = {fixed(st.output_gate)} × tanh({fixed(st.long_term_memory)})",
        f"    = {fixed(st.output_gate)} × {_paren(fixed(st.squashed_memory))} = {fixed(st.value)}",
    ], st.meaning, _notes(narration, "short_term")))
    dense = narration.dense
    if dense is not None:
        lines = [_term_line(term) for term in dense.terms]
        lines.append(f"prediction (output {dense.output}) = "
                     + " + ".join(parenthesised(t.product) for t in dense.terms)
                     + f" = {fixed(dense.value)}")
        out.append(("dense", HEADINGS["dense"], lines, dense.meaning, _notes(narration, "dense")))
    return out


def _notes(narration: StepNarration, key: str) -> list[str]:
    return [note.text for note in narration.notes_for(key)]


def narration_text(narration: StepNarration) -> str:
    """Plain text: a title, then numbered sections with indented lines."""
    blocks = [narration.title]
    for number, (_, heading, lines, meaning, notes) in enumerate(sections(narration), start=1):
        body = [f"{number}. {heading}", *(f"   {line}" for line in lines), f"   → {meaning}"]
        body += [f"   note: {note}" for note in notes]
        blocks.append("\n".join(body))
    return "\n\n".join(blocks) + "\n"


def narration_markdown(narration: StepNarration) -> str:
    """Markdown: a heading per section, the arithmetic in a code block, notes as quotes."""
    blocks = [f"## {narration.title}"]
    for number, (_, heading, lines, meaning, notes) in enumerate(sections(narration), start=1):
        body = [f"### {number}. {heading}", "", "```text", *lines, "```", "", f"**→ {meaning}**"]
        body += ["", *(f"> **The article:** {note}" for note in notes)] if notes else []
        blocks.append("\n".join(body))
    return "\n\n".join(blocks) + "\n"


def narration_html(narration: StepNarration) -> str:
    """An HTML fragment (a ``<section>``): no scripts, no external resources."""
    esc = html.escape
    parts = ['<section class="lstmlens-narration">', f"<h3>{esc(narration.title)}</h3>", "<ol>"]
    for key, heading, lines, meaning, notes in sections(narration):
        parts.append(f'<li class="step-{esc(key)}"><strong>{esc(heading)}</strong>')
        parts.append("<pre>" + esc("\n".join(lines)) + "</pre>")
        parts.append(f'<p class="meaning">→ {esc(meaning)}</p>')
        parts += [f'<p class="note"><em>The article:</em> {esc(note)}</p>' for note in notes]
        parts.append("</li>")
    parts += ["</ol>", "</section>"]
    return "\n".join(parts)
