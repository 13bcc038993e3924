"""The chat page's stylesheet and the scripts that run in the browser."""

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
# container): on a phone the page's own side padding, 32 px a side, shrinks to 10.
HEAD = """<style>
@media (max-width: 640px) {
  .gradio-container .main.app { padding-left: 10px !important; padding-right: 10px !important; }
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
