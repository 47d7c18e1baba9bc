// One message's element in the list (`li.message`): sender, time, the quote of the message it answers, the text
// (its Markdown subset drawn by rich-text.js, with "(edited)", and the user's own @mentions marked), or the editing
// box, or the "message deleted" placeholder; a poll; an announcement's "I've read it" and tally; reaction chips; the
// sending status; and the actions shown on hover or focus (React, Reply, Edit, Delete, and Pin for moderators) with
// the reaction picker. Everything the users wrote goes in as text nodes.

import { mentions } from '../names.js';
import { isMine, canEdit, canDelete } from '../message.js';
import { el, hue, icon, initial, setText, show, attr } from './dom.js';
import { createPoll, updatePoll } from './poll.js';
import { createPicker, updateReactions } from './reactions.js';
import { createAnnouncement, updateAnnouncement } from './announcement.js';
import { renderRichText } from './rich-text.js';

const pad = (n) => String(n).padStart(2, '0');

/** Local time as HH:MM. */
export function clock(ts) {
  const d = new Date(ts);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// Made once: `toLocaleString` with options builds a formatter on every call, which is slow enough to matter for a
// page of 50 new rows.
const FULL_DATE = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

export function fullDate(ts) {
  return FULL_DATE.format(ts);
}

const actionBtn = (cls, iconName, label) =>
  el('button', { type: 'button', class: `icon-btn ${cls}`, title: label, 'aria-label': label }, icon(iconName));

export function createMessageRow() {
  return el(
    'li',
    { class: 'message' },
    el('span', { class: 'avatar', 'aria-hidden': 'true' }),
    el(
      'div',
      { class: 'body' },
      el('div', { class: 'meta' }, el('span', { class: 'from' }), ' ', el('time', { class: 'time' })),
      el('div', { class: 'quote', hidden: true }, el('span', { class: 'quote-from' }), ' ', el('span', { class: 'quote-text' })),
      el('div', { class: 'content' }, el('span', { class: 'text' }), el('span', { class: 'edited', text: ' (edited)', hidden: true })),
      el('p', { class: 'deleted-note', text: 'message deleted', hidden: true }),
      el('div', { class: 'reactions', hidden: true }),
      el('div', { class: 'status' }),
    ),
    el(
      'div',
      { class: 'actions', role: 'toolbar', 'aria-label': 'Message actions', hidden: true },
      actionBtn('react-btn', 'smile', 'React'),
      actionBtn('reply-btn', 'reply', 'Reply'),
      actionBtn('edit-btn', 'pencil', 'Edit'),
      actionBtn('delete-btn', 'trash', 'Delete'),
      actionBtn('pin-btn', 'pin', 'Pin to the top of the room'),
    ),
  );
}

/** The editing box, kept while it is open so that redrawing the row (a reaction meanwhile) keeps what is typed. */
function editBox(body, msg, editing) {
  let box = body.querySelector('.edit-box');
  if (!editing) {
    if (box) box.remove();
    return;
  }
  if (box) return;
  box = el(
    'div',
    { class: 'edit-box' },
    el('textarea', { class: 'edit-input', rows: '2', 'aria-label': 'Edit message' }),
    el(
      'div',
      { class: 'edit-hint' },
      'Enter to ',
      el('button', { type: 'button', class: 'link edit-save-btn', text: 'save' }),
      ' · Escape to ',
      el('button', { type: 'button', class: 'link edit-cancel-btn', text: 'cancel' }),
    ),
  );
  box.firstChild.value = msg.text;
  body.querySelector('.content').after(box);
}

/** The row's fixed elements, looked up once (the editing box and the poll come and go between them). */
function parts(node) {
  if (!node._parts) {
    const $ = (sel) => node.querySelector(sel);
    node._parts = {
      avatar: $('.avatar'), body: $('.body'), actions: $('.actions'), from: $('.from'), time: $('.time'),
      quote: $('.quote'), content: $('.content'), deletedNote: $('.deleted-note'), reactions: $('.reactions'),
      status: $('.status'),
    };
  }
  return node._parts;
}

/**
 * Brings a message row up to date; cheap when nothing changed (signature check). `ctx`: `{ me, online, moderating,
 * editing, picker, members, membersKey, pinnedSeq, canPin }` (`editing`/`picker`: the seq whose editing box or
 * reaction picker is open; `members`: who is online in the room, which an announcement's tally counts; `pinnedSeq`:
 * the pinned message's; `canPin`: a moderator in a room).
 */
export function updateMessageRow(node, row, ctx) {
  const m = row.msg;
  const pending = row.kind === 'pending';
  const deleted = !pending && m.deleted === true;
  const mention = !pending && !deleted && !isMine(m, ctx.me) && mentions(m.text, ctx.me);
  const editing = !pending && !deleted && ctx.editing === m.seq && canEdit(m, ctx.me);
  const picking = !pending && !deleted && ctx.picker === m.seq;
  const announcement = !deleted && Boolean(m.announcement);
  const pinned = !pending && ctx.pinnedSeq === m.seq;
  const sig = [
    row.kind, m.seq, m.client_id, row.from, m.text, m.ts, row.continued, mention, row.error, pending && ctx.online,
    m.v, ctx.me, ctx.moderating, editing, picking, pinned,
    // Only an announcement's tally depends on who is online.
    announcement ? ctx.membersKey : '',
  ].join('\u0000');
  if (node._sig === sig) return;
  node._sig = sig;

  // A brief highlight (a search result or the pinned message shown) outlives a redraw of the row.
  const flashing = node.classList.contains('flash');
  node.className = flashing ? 'message flash' : 'message';
  node.classList.toggle('pending', pending);
  node.classList.toggle('failed', Boolean(row.error));
  node.classList.toggle('continued', row.continued);
  node.classList.toggle('mention', mention);
  node.classList.toggle('own', isMine({ from: row.from }, ctx.me));
  node.classList.toggle('deleted', deleted);
  node.classList.toggle('has-poll', Boolean(m.poll) && !deleted);
  node.classList.toggle('editing', editing);
  node.classList.toggle('picking', picking);
  node.classList.toggle('announcement', announcement);
  attr(node, 'data-seq', pending ? null : m.seq);
  attr(node, 'data-client-id', m.client_id || null);

  const { avatar, body, actions, from, time, quote, content, deletedNote, reactions, status } = parts(node);
  avatar.className = `avatar c${hue(row.from)}`;
  setText(avatar, initial(row.from));
  from.className = `from c${hue(row.from)}`;
  setText(from, row.from);
  setText(time, clock(m.ts));
  time.dateTime = new Date(m.ts).toISOString();
  time.title = fullDate(m.ts);

  const q = deleted ? null : m.reply_to;
  show(quote, Boolean(q));
  if (q) {
    setText(quote.firstChild, q.from);
    setText(quote.lastChild, q.text);
    quote.dataset.seq = String(q.seq);
    attr(quote, 'title', `Reply to ${q.from}`);
  }

  const [text, edited] = content.children;
  renderRichText(text, m.text, { me: ctx.me, mention });
  show(content, !deleted && !editing);
  show(edited, !deleted && Boolean(m.edited_ms));
  if (m.edited_ms) attr(edited, 'title', `Edited ${fullDate(m.edited_ms)}`);
  show(deletedNote, deleted);
  editBox(body, m, editing);

  let poll = body.querySelector('.poll');
  if (m.poll && !deleted) {
    if (!poll) {
      poll = createPoll();
      reactions.before(poll);
    }
    updatePoll(poll, m, ctx, pending);
  } else if (poll) {
    poll.remove();
  }

  let box = body.querySelector('.announcement-box');
  if (announcement) {
    if (!box) {
      box = createAnnouncement();
      reactions.before(box);
    }
    updateAnnouncement(box, m, ctx, pending);
  } else if (box) {
    box.remove();
  }

  updateReactions(reactions, m, ctx); // None on a pending or deleted message.

  status.replaceChildren();
  if (row.error) {
    status.append(
      el('span', { text: `Not sent: ${row.error}` }),
      ' ',
      el('button', { type: 'button', class: 'link dismiss-btn', dataset: { clientId: m.client_id }, text: 'Dismiss' }),
    );
  } else if (pending) {
    status.append(el('span', { text: ctx.online ? 'Sending…' : 'Waiting for the connection — it will go out when we are back.' }));
  }
  show(status, Boolean(status.firstChild));

  // Actions exist for stored messages that are not deleted: everyone reacts and replies; the sender edits; the
  // sender or a moderator deletes.
  show(actions, !pending && !deleted);
  if (!pending && !deleted) {
    show(actions.querySelector('.edit-btn'), canEdit(m, ctx.me));
    show(actions.querySelector('.delete-btn'), canDelete(m, ctx.me, ctx.moderating));
    attr(actions.querySelector('.react-btn'), 'aria-expanded', String(picking));
    // Moderators pin a message to the top of the room; on the pinned one the same button takes it down.
    const pin = actions.querySelector('.pin-btn');
    show(pin, Boolean(ctx.canPin));
    attr(pin, 'aria-pressed', pinned ? 'true' : 'false');
    attr(pin, 'title', pinned ? 'Unpin' : 'Pin to the top of the room');
    attr(pin, 'aria-label', pinned ? 'Unpin' : 'Pin to the top of the room');
  }
  const picker = actions.querySelector('.react-picker');
  if (picking && !picker) actions.append(createPicker());
  else if (!picking && picker) picker.remove();
}
