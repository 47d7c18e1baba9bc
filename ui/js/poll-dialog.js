// The "New poll" dialog (`#poll-dialog`), opened by the composer's Poll button: a question, one field per option
// ("Add option" up to 10; blank ones are left out), "Allow several choices". polls.js checks it with the server's
// rules before anything is sent; the poll then goes out like a message (`sendPoll`) and shows as pending at once.

import { addPending, jumpToLatest } from './state.js';
import { checkPoll, MAX_OPTIONS, MIN_OPTIONS } from './polls.js';
import { sentence } from './connect.js';
import { el, icon, openModal, closeModal, setText, show } from './view/dom.js';

const $ = (id) => document.getElementById(id);

/** Fields the dialog starts with: two to fill, one spare (blank ones are ignored). */
const START_FIELDS = 3;

export function setupPollDialog(app, messages) {
  const dialog = $('poll-dialog');
  const form = $('poll-form');
  const question = $('poll-question');
  const list = $('poll-options');
  const addBtn = $('poll-add-option-btn');
  const multiple = $('poll-multiple');
  const error = $('poll-error');
  const submit = $('poll-submit-btn');
  /** The conversation the dialog was opened for: a poll goes where the user was when they started it. */
  let room = null;

  const fields = () => [...list.querySelectorAll('.poll-option-input')];

  function renumber() {
    const all = fields();
    all.forEach((input, i) => {
      input.setAttribute('aria-label', `Option ${i + 1}`);
      input.placeholder = `Option ${i + 1}`;
    });
    for (const btn of list.querySelectorAll('.poll-remove-option-btn')) btn.hidden = all.length <= MIN_OPTIONS;
    addBtn.disabled = all.length >= MAX_OPTIONS;
  }

  function addField(value = '') {
    if (fields().length >= MAX_OPTIONS) return null;
    const input = el('input', { type: 'text', class: 'poll-option-input', autocomplete: 'off' });
    input.value = value;
    const remove = el(
      'button',
      { type: 'button', class: 'icon-btn poll-remove-option-btn', title: 'Remove this option' },
      icon('x'),
      el('span', { class: 'sr-only', text: 'Remove this option' }),
    );
    list.append(el('li', { class: 'poll-input-row' }, input, remove));
    renumber();
    return input;
  }

  function fail(message, field) {
    setText(error, message);
    show(error, true);
    const target = field === 'question' ? question : fields()[field] || addField();
    if (target) target.focus();
  }

  function open() {
    const s = app.state;
    if (!s.active) return;
    room = s.active;
    question.value = '';
    multiple.checked = false;
    list.replaceChildren();
    for (let i = 0; i < START_FIELDS; i++) addField();
    show(error, false);
    submit.disabled = false;
    openModal(dialog);
    question.focus();
  }

  function close() {
    closeModal(dialog);
    $('composer-input').focus();
  }

  $('poll-btn').addEventListener('click', open);
  $('poll-cancel-btn').addEventListener('click', close);
  addBtn.addEventListener('click', () => {
    const input = addField();
    if (input) input.focus();
  });
  list.addEventListener('click', (e) => {
    const btn = e.target.closest('.poll-remove-option-btn');
    if (!btn || fields().length <= MIN_OPTIONS) return;
    const row = btn.closest('li');
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    renumber();
    if (next) next.querySelector('input').focus();
  });
  // Enter in the last option field adds the next one, as in the chat apps people know; in any other field it posts.
  list.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || e.isComposing) return;
    const all = fields();
    if (e.target !== all[all.length - 1] || !e.target.value.trim() || all.length >= MAX_OPTIONS) return;
    e.preventDefault();
    addField().focus();
  });
  for (const node of [question, list, multiple]) node.addEventListener('input', () => show(error, false));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const s = app.state;
    const checked = checkPoll(
      { question: question.value, options: fields().map((f) => f.value), multiple: multiple.checked },
      s.limits.max_text_chars || 4000,
    );
    if (checked.error) return fail(checked.error, checked.field);
    const { poll } = checked;
    const session = s.session;
    submit.disabled = true;
    try {
      const clientId = await app.bridge.sendPoll({ room, ...poll });
      if (s.session === session && typeof clientId === 'string') {
        addPending(s, { client_id: clientId, room, text: poll.question, poll: { options: poll.options, multiple: poll.multiple } });
      }
    } catch (err) {
      submit.disabled = false;
      return fail(sentence(err.message), 'question');
    }
    close();
    app.stickNext = true;
    app.run(jumpToLatest(s, room));
    messages.followLatest();
    app.render();
  });

  // Escape closes the dialog (the browser does it for a modal <dialog>): give the focus back to the composer.
  dialog.addEventListener('close', () => {
    if (document.activeElement === document.body) $('composer-input').focus();
  });

  return { open };
}
