// Who is in the room on screen (`#online-list`, each `li[data-nick]`): a button that opens the direct conversation,
// "hand up" beside a raised hand, "muted" beside someone a moderator muted (everyone sees it), and for moderators
// each person's actions (`.mute-btn` or `.unmute-btn`, `.remove-btn`). Below it, for moderators only, who was
// removed from the room (`#removed-list`, each with `.readmit-btn`). Clicks are handled by delegation: the direct
// conversation in chat.js, the moderator's actions in class-controls.js.

import { memberEntries, removedEntries } from '../moderation.js';
import { el, reconcile, setText, show, hue, initial } from './dom.js';

const small = (cls, text, label) => el('button', { type: 'button', class: `btn small ${cls}`, text, 'aria-label': label, title: label });

function createMember(m) {
  const avatar = el('span', { class: `avatar small c${hue(m.nick)}`, 'aria-hidden': 'true', text: initial(m.nick) });
  const name = el('span', { class: 'member-name', text: m.nick });
  const hand = m.hand ? el('span', { class: 'hand', title: 'Hand raised', text: 'hand up' }) : null;
  const muted = m.muted ? el('span', { class: 'muted-badge', title: 'A moderator muted them: they cannot post', text: 'muted' }) : null;
  const parts = [avatar, name, hand, muted].filter(Boolean);
  const inner = m.self
    ? el('span', { class: 'member self' }, ...parts, el('span', { class: 'you', text: '(you)' }))
    : el('button', { type: 'button', class: 'member', title: `Message ${m.nick} directly`, 'aria-label': `${m.nick}: send a direct message` }, ...parts);
  const actions = m.actions
    ? el(
      'span',
      { class: 'member-actions', role: 'group', 'aria-label': `Moderate ${m.nick}` },
      m.muted ? small('unmute-btn', 'Unmute', `Let ${m.nick} post again`) : small('mute-btn', 'Mute', `Mute ${m.nick}: they can still read, vote and react`),
      small('remove-btn', 'Remove', `Remove ${m.nick} from the room`),
    )
    : null;
  return el('li', { dataset: { nick: m.nick } }, inner, actions);
}

/** Draws who is online in the conversation on screen. `moderator`: show each person's Mute/Remove actions. */
export function renderOnline(state, list, heading, { moderator = false } = {}) {
  const c = state.active ? state.convs.get(state.active) : null;
  const entries = memberEntries(state, c, moderator);
  setText(heading, entries.length ? `Online — ${entries.length}` : 'Online');
  // Everything an entry shows is in its key: an entry whose state changed is made again.
  reconcile(list, entries, {
    key: (m) => [m.self ? 'me' : '', m.hand ? 'hand' : '', m.muted ? 'muted' : '', m.actions ? 'mod' : '', m.nick].join(':'),
    create: createMember,
    update: () => {},
  });
}

/** Draws the moderator's list of who was removed from the room on screen (hidden when empty or not moderating). */
export function renderRemoved(state, section, list, { moderator = false } = {}) {
  const removed = removedEntries(state, moderator);
  show(section, removed.length > 0);
  reconcile(list, removed, {
    key: (nick) => nick,
    create: (nick) =>
      el(
        'li',
        { class: 'removed-entry', dataset: { nick } },
        el('span', { class: 'member-name', text: nick }),
        small('readmit-btn', 'Let back in', `Let ${nick} join the room again`),
      ),
    update: () => {},
  });
}
