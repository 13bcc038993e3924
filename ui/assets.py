"""The chat page's theme, stylesheet and the scripts that run in the browser."""

from __future__ import annotations

import gradio as gr


def theme() -> gr.themes.Base:
    """The page's gradio theme: system fonts, and text that meets WCAG AA contrast."""
    # System fonts: the default theme fetches Google Fonts, which a machine without internet
    # (or a privacy-minded user) should not need.
    # Subdued text and accents one step darker than the theme's: its grey (#9ca3af) read at
    # 2.4:1 and its indigo at 4.3:1 on the page; WCAG AA asks 4.5:1 (axe checks it in the tests).
    return gr.themes.Soft(
        primary_hue="indigo",
        font=["ui-sans-serif", "system-ui", "Segoe UI", "Helvetica", "Arial", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
    ).set(
        body_text_color_subdued="*neutral_600",
        block_title_text_color="*neutral_700",  # the filter's and the upload's field labels
        block_label_text_color="*neutral_700",
        block_info_text_color="*neutral_600",
        body_text_color_subdued_dark="*neutral_300",
        color_accent="*primary_700",
        color_accent_soft_dark="*primary_300",
        button_primary_background_fill="*primary_600",  # white on it: 6.3:1, not 4.5
        button_primary_background_fill_hover="*primary_700",
        checkbox_label_background_fill_selected="*primary_600",  # a chosen filter, as above
    )


# "Export as Markdown", in the browser: each turn's question and its answer with citations
# (the text "Copy with citations" copies), as a file to download.
EXPORT_JS = """
() => {
  const turns = Array.from(document.querySelectorAll('#rag-chat .rag-turn'));
  const text = '# News QA conversation\\n\\n' + turns.map((turn) => {
    const question = turn.querySelector('.rag-user').textContent.trim();
    const reply = turn.querySelector('[data-markdown]');
    const answer = reply ? reply.dataset.markdown : turn.querySelector('.rag-bot').innerText;
    return '## ' + question + '\\n\\n' + answer + '\\n';
  }).join('\\n');
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([text], { type: 'text/markdown' }));
  link.download = 'news-qa-conversation.md';
  document.body.appendChild(link);
  link.click();
  link.remove();
}
"""

# Rules for what lies outside the blocks (gradio prefixes `CSS`'s selectors with its blocks'
# container): on a phone the page's own side padding, 32 px a side, shrinks to 10. And the
# rules gradio drops from `CSS`, container queries: in a narrow chart (a phone, an answer's
# bubble) a bar's words and value go above it, and its track takes the row's whole width.
HEAD = """<style>
@media (max-width: 640px) {
  .gradio-container .main.app { padding-left: 10px !important; padding-right: 10px !important; }
}
@container (max-width: 560px) {
  .gradio-container .contain .rag-charts .rag-bar details > summary {
    grid-template-columns: minmax(0, 1fr) fit-content(40%);
    grid-template-areas: "what value" "track track";
  }
  .gradio-container .contain .rag-charts .rag-bar .rag-bar-value { text-align: right; }
}
</style>"""

CSS = """
.gradio-container { max-width: 1180px !important; margin: 0 auto; }
#rag-header h1 { margin-bottom: 0.2em; }
.rag-chat { display: flex; flex-direction: column; gap: 18px; padding: 4px 2px; }
.rag-empty { color: var(--body-text-color-subdued); padding: 24px 8px; }
.rag-turn { display: flex; flex-direction: column; gap: 8px; }
.rag-user { align-self: flex-end; max-width: 80%; white-space: pre-wrap; overflow-wrap: anywhere;
  background: var(--color-accent-soft); border: 1px solid var(--border-color-accent-subdued);
  border-radius: 14px 14px 4px 14px; padding: 8px 14px; }
.rag-bot { align-self: flex-start; max-width: 94%; width: 94%;
  background: var(--background-fill-secondary); border: 1px solid var(--border-color-primary);
  border-radius: 14px 14px 14px 4px; padding: 12px 16px; }
.rag-short { font-size: 1.05em; margin-bottom: 6px; }
.rag-answered-as, .rag-scope { font-size: 0.9em; color: var(--body-text-color-subdued);
  margin-bottom: 6px; }
/* The cited sentences: a list, one item each, numbered by their own [n] markers. */
.rag-answer, .rag-closest { line-height: 1.6; overflow-wrap: anywhere; list-style: none;
  padding-left: 0 !important; margin: 0 !important; }
.rag-answer > .rag-sentence, .rag-closest > .rag-sentence { margin: 0 0 6px !important;
  padding-left: 0 !important; }
.rag-marker { font-weight: 600; color: var(--color-accent); font-size: 0.9em; }
mark.rag-short-answer { background: #fde68a; color: #111827; font-weight: 700; padding: 0 3px;
  border-radius: 3px; }
.rag-differing { border-left: 4px solid #2563eb; padding: 6px 10px; margin-bottom: 8px;
  background: rgba(37, 99, 235, 0.08); }
.rag-differing ul { margin: 4px 0 0 0; padding-left: 18px; }
.rag-abstain { border-left: 4px solid #d97706; padding: 6px 10px; margin-bottom: 8px;
  background: rgba(217, 119, 6, 0.08); }
.rag-closest-label { font-size: 0.9em; font-style: italic; margin-bottom: 4px;
  color: var(--body-text-color-subdued); }
.rag-closest { color: var(--body-text-color-subdued); }
.rag-error { border-left: 4px solid #dc2626; padding: 6px 10px;
  background: rgba(220, 38, 38, 0.08); overflow-wrap: anywhere; }
.rag-confidence { display: flex; align-items: center; gap: 8px; font-size: 0.85em;
  margin: 10px 0 4px; color: var(--body-text-color-subdued); }
.rag-meter { display: inline-block; width: 90px; height: 8px; border-radius: 4px;
  background: var(--border-color-primary); overflow: hidden; }
.rag-meter > span { display: block; height: 100%; }
.rag-high .rag-meter > span { background: #16a34a; }
.rag-medium .rag-meter > span { background: #d97706; }
.rag-low .rag-meter > span { background: #dc2626; }
.rag-sources { margin-top: 10px; padding-top: 8px;
  border-top: 1px solid var(--border-color-primary); }
.rag-sources-title { font-weight: 600; font-size: 0.9em; margin-bottom: 4px; }
.rag-source-list { list-style: none; padding-left: 0 !important; margin: 0 !important; }
.rag-source { margin: 6px 0 !important; padding-left: 0 !important; }
.rag-source-head { display: flex; flex-wrap: wrap; gap: 4px 8px; align-items: baseline; }
.rag-title { font-weight: 600; overflow-wrap: anywhere; }
.rag-meta { font-size: 0.85em; color: var(--body-text-color-subdued); }
.rag-context summary { cursor: pointer; font-size: 0.85em; color: var(--color-accent); }
.rag-paragraph { white-space: pre-wrap; font-size: 0.92em; line-height: 1.55;
  margin: 6px 0 0 !important; padding: 8px 12px; overflow-wrap: anywhere;
  border-left: 3px solid var(--border-color-primary); }
mark.rag-cited { background: #dbeafe; color: #111827; padding: 1px 0; }
.rag-corpus .rag-counts { margin: 0 0 8px; }
.rag-corpus-list { padding-left: 1.1em !important; font-size: 0.9em; }
.rag-corpus-list li { margin-bottom: 6px; }
.rag-corpus-list .rag-meta { display: block; }
.rag-examples { flex-wrap: wrap !important; gap: 6px !important; }
.rag-hint { font-size: 0.9em; color: var(--body-text-color-subdued); }
.rag-examples button { text-align: left; flex: 0 1 auto !important; }
.rag-source + .rag-source { border-top: 1px dashed var(--border-color-primary); padding-top: 6px; }
#rag-clear { align-self: flex-start; }
.rag-hidden { display: none !important; }
.rag-date-problem { margin: 0 !important; color: #b91c1c; font-size: 0.9em; }
.rag-date-problem:empty, #rag-date-problem:has(.rag-date-problem:empty) { display: none; }
.rag-copy { margin: 8px 0 2px; font-size: 0.85em; color: var(--color-accent); cursor: pointer;
  background: none; border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: 1px 8px; }
.rag-ask-anew { margin-left: 6px; font-size: 0.95em; color: var(--color-accent); cursor: pointer;
  background: none; border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: 0 6px; }
/* The figures: charts of horizontal bars, each opening onto its sentence, then the table. */
#rag-fig-clear { align-self: flex-start; }
.rag-fig-count { margin: 4px 0 10px !important; }
.rag-charts { display: flex; flex-direction: column; gap: 14px; margin: 8px 0; }
.rag-chart-label { font-size: 0.9em; font-weight: 600; margin-top: 10px; }
.rag-chart { margin: 0 !important; padding: 10px 12px; border-radius: 8px;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-primary); }
.rag-chart figcaption { font-weight: 600; margin-bottom: 6px; }
.rag-chart-where { margin: 8px 0 2px !important; font-size: 0.85em; font-weight: 600;
  color: var(--body-text-color-subdued); }
.rag-bars { list-style: none; padding-left: 0 !important; margin: 0 !important; }
.rag-bar { margin: 0 !important; padding-left: 0 !important; }
/* Every bar of a chart starts at the same place and is as long as its number: the tracks
   take the same share of each row, and a long value wraps inside its own column. */
.rag-bar summary { display: grid; align-items: center; gap: 2px 10px; cursor: pointer;
  grid-template-columns: minmax(0, 2fr) minmax(0, 3fr) minmax(0, 1.1fr);
  grid-template-areas: "what track value"; padding: 3px 4px; border-radius: 4px;
  list-style: none; }
.rag-bar summary::-webkit-details-marker { display: none; }
.rag-bar summary:hover, .rag-bar details[open] > summary { background: var(--color-accent-soft); }
.rag-bar-what { grid-area: what; overflow-wrap: anywhere; line-height: 1.3; }
.rag-bar-what .rag-meta { display: block; }
.rag-bar-track { grid-area: track; height: 14px; background: var(--border-color-primary);
  border-radius: 3px; overflow: hidden; }
.rag-bar-fill { display: block; height: 100%; min-width: 2px; background: #4338ca; }
.rag-bar-value { grid-area: value; font-weight: 700; overflow-wrap: anywhere; }
.rag-charts { container-type: inline-size; }  /* narrow charts: see `HEAD` */
.rag-fig-source { margin: 4px 0 8px 4px; }
.rag-fig-cite { margin: 4px 0 0 !important; display: flex; flex-wrap: wrap; gap: 2px 8px;
  font-size: 0.9em; }
.rag-chart-more { font-size: 0.9em; color: var(--body-text-color-subdued); }
.rag-fig-tools { display: flex; justify-content: flex-end; margin: 10px 0 6px; }
.rag-fig-csv { font-size: 0.9em; color: var(--color-accent); cursor: pointer; background: none;
  border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 3px 10px; }
.rag-fig-table { width: 100%; border-collapse: collapse; font-size: 0.92em; border: 0 !important; }
.rag-fig-table tr { border: 0 !important; }
.rag-fig-table caption { text-align: left; font-size: 0.9em; padding: 4px 0;
  color: var(--body-text-color-subdued); }
.rag-fig-table th, .rag-fig-table td { text-align: left; vertical-align: top; padding: 6px 8px;
  border: 0 !important; border-bottom: 1px solid var(--border-color-primary) !important; }
.rag-fig-table td .rag-meta { display: block; }
.rag-fig-table th button { font-weight: 600; cursor: pointer; background: none; border: 0;
  padding: 0; color: inherit; white-space: nowrap; }
.rag-fig-table th button::after { content: " ↕"; color: var(--body-text-color-subdued); }
.rag-fig-table th[aria-sort=ascending] button::after { content: " ▲"; }
.rag-fig-table th[aria-sort=descending] button::after { content: " ▼"; }
.rag-fig-value { font-weight: 700; white-space: nowrap; }
.rag-not-stated { font-style: italic; color: var(--body-text-color-subdued); }
/* A phone (390 px): the answer grows with the page instead of scrolling in a box of its own,
   takes the width the page has (the page's, the chat's and the bubble's paddings cost it 75 px
   of 390), and the hint and "Clear conversation" stack rather than squeeze each other. */
@media (max-width: 640px) {
  #rag-chat { max-height: none !important; overflow: visible !important; padding: 4px !important; }
  #rag-chat > * { max-height: none !important; overflow: visible !important;
    padding-left: 0 !important; padding-right: 0 !important; }
  .rag-chat { padding: 2px 0; }
  .rag-bot { width: 100%; max-width: 100%; padding: 10px 10px; }
  .rag-user { max-width: 88%; }
  .rag-hint-row { flex-direction: column; }
  #rag-clear { width: 100%; }
  /* The table's rows as cards, each cell named; its column names a row of sort buttons. */
  .rag-fig-table, .rag-fig-table tbody, .rag-fig-table tr, .rag-fig-table td { display: block; }
  .rag-fig-table thead tr { display: flex; flex-wrap: wrap; gap: 4px 14px; }
  .rag-fig-table th { border: 0 !important; padding: 2px 0; }
  .rag-fig-table tbody tr { padding: 8px 0;
    border-bottom: 1px solid var(--border-color-primary) !important; }
  .rag-fig-table td { border: 0 !important; padding: 1px 0; }
  .rag-fig-table td[data-label]::before { content: attr(data-label) ": ";
    color: var(--body-text-color-subdued); }
  .rag-fig-table td .rag-meta { display: inline; margin-left: 4px; }
  .rag-fig-table td:last-child .rag-meta { display: block; margin-left: 0; }
}
"""


# Runs once in the browser. The HTML component re-renders by diffing attributes, which would
# close every opened "in context" paragraph when a new answer arrives, so the open ones are
# remembered (by position: the conversation only grows, until it is cleared) and reopened.
# Then the newest turn is scrolled to the top of the chat box, so a long answer reads from
# its start.
CHAT_JS = """
// The chat is a live region: a screen reader reads each new answer when it arrives.
element.setAttribute('role', 'log');
element.setAttribute('aria-live', 'polite');
element.setAttribute('aria-label', 'Conversation');
// "Ask as a new question" under a merged follow-up: its words go to a hidden box whose button
// asks them without the previous question.
element.addEventListener('click', (event) => {
  const button = event.target.closest('.rag-ask-anew');
  if (!button) return;
  const box = document.querySelector('#rag-anew-question textarea');
  box.value = button.dataset.question;
  box.dispatchEvent(new Event('input', { bubbles: true }));
  setTimeout(() => document.querySelector('#rag-anew-ask').click(), 0);
});
// "Copy with citations": the answer as plain text, each cited sentence's source after it.
element.addEventListener('click', async (event) => {
  const button = event.target.closest('.rag-copy');
  if (!button) return;
  await navigator.clipboard.writeText(button.dataset.copy);
  button.textContent = 'Copied';
  setTimeout(() => { button.textContent = 'Copy with citations'; }, 1500);
});
const opened = new Set();
const all = () => Array.from(element.querySelectorAll('details'));
element.addEventListener('toggle', (event) => {
  const index = all().indexOf(event.target);
  if (index < 0) return;
  if (event.target.open) opened.add(index); else opened.delete(index);
}, true);
const scroller = () => {
  for (let node = element; node && node !== document.body; node = node.parentElement) {
    const style = getComputedStyle(node).overflowY;
    if ((style === 'auto' || style === 'scroll') && node.scrollHeight > node.clientHeight) {
      return node;
    }
  }
  return null;
};
watch('value', () => {
  const turns = element.querySelectorAll('.rag-turn');
  if (!turns.length) { opened.clear(); return; }
  all().forEach((details, index) => { if (opened.has(index)) details.open = true; });
  const box = scroller();
  if (box) {
    const last = turns[turns.length - 1];
    box.scrollTop += last.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
  }
});
"""


# Runs once in the browser, for the Figures tab: a column's name sorts the table by it (a second
# click the other way; a figure whose place or period is not stated stays last), and "Download
# CSV" saves the rows in the order shown, each row's CSV line written by the server. A new body
# (filters changed, articles uploaded) is sorted as the last click asked.
FIGURES_JS = """
let sorting = null;
const sortRows = () => {
  const table = element.querySelector('.rag-fig-table');
  if (!table || !sorting) return;
  const heads = Array.from(table.tHead.rows[0].cells);
  const numeric = heads[sorting.column].dataset.type === 'number';
  const key = (row) => row.cells[sorting.column].dataset.key;
  const rows = Array.from(table.tBodies[0].rows);
  rows.sort((a, b) => {
    const x = key(a), y = key(b);
    if (x === '' || y === '') return (x === '') - (y === '');
    const order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
    return sorting.ascending ? order : -order;
  });
  rows.forEach((row) => table.tBodies[0].appendChild(row));
  heads.forEach((head, n) => head.setAttribute('aria-sort', n !== sorting.column ? 'none'
    : sorting.ascending ? 'ascending' : 'descending'));
};
element.addEventListener('click', (event) => {
  const button = event.target.closest('.rag-fig-table th button');
  if (button) {
    const column = Number(button.dataset.column);
    const ascending = !(sorting && sorting.column === column && sorting.ascending);
    sorting = { column, ascending };
    sortRows();
    return;
  }
  if (!event.target.closest('.rag-fig-csv')) return;
  const rows = element.querySelector('.rag-fig-rows');
  const lines = Array.from(rows.querySelectorAll('tbody tr'), (row) => row.dataset.csv);
  // A byte-order mark, so that a spreadsheet reads the titles' curly quotes as UTF-8.
  const text = '\ufeff' + rows.dataset.csvHeader + lines.join('');
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  link.download = 'news-qa-figures.csv';
  document.body.appendChild(link);
  link.click();
  link.remove();
});
watch('value', sortRows);
"""
