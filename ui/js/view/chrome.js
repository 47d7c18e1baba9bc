// Everything around the message list: the conversation header, the connection banner, the typing line, the recent
// servers on the connect screen and the host panel.

import { displayName, rulesText, typingNames } from '../selectors.js';
import { mutedHere, mutedNote } from '../moderation.js';
import { el, icon, reconcile, setText, show, attr } from './dom.js';

/** "ana is typing…", "ana and bo are typing…", "ana, bo and cy are typing…", "Several people are typing…". */
export function typingText(names) {
  if (!names.length) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  if (names.length === 3) return `${names[0]}, ${names[1]} and ${names[2]} are typing…`;
  return 'Several people are typing…';
}

export function renderTyping(state, line, now = Date.now()) {
  setText(line, state.active ? typingText(typingNames(state, state.active, now)) : '');
}

/** The header: room name, topic, and the state of the mute toggle. */
export function renderHeader(state, els) {
  const key = state.active;
  const c = key ? state.convs.get(key) : null;
  const dm = Boolean(c && c.dm);
  setText(els.title, key ? displayName(state, key) : 'No conversation');
  els.title.classList.toggle('dm', dm);
  els.title.classList.toggle('room', Boolean(key) && !dm);
  if (!els.topicForm.hidden) return; // Being edited: leave it alone.
  const topic = c ? c.topic : '';
  if (!key) setText(els.topic, state.lastError); // E.g. why the room on screen closed, when no other one is open.
  else if (dm) setText(els.topic, 'Direct conversation');
  else if (!c || !c.joined) setText(els.topic, c && c.joining ? 'Joining…' : '');
  else setText(els.topic, topic || 'Add a topic');
  els.topic.disabled = !c || dm || !c.joined;
  els.topic.classList.toggle('placeholder', Boolean(c && !dm && c.joined && !topic));
  attr(els.topic, 'title', c && !dm && c.joined ? 'Click to change the topic' : null);
  attr(els.topic, 'aria-label', c && !dm && c.joined ? `Topic: ${topic || 'none'}. Change topic` : null);

  const muted = Boolean(key && state.prefs.muted.has(key));
  els.mute.disabled = !key;
  attr(els.mute, 'aria-pressed', muted ? 'true' : 'false');
  if (els.mute.dataset.drawn !== String(muted)) {
    els.mute.dataset.drawn = String(muted);
    els.mute.replaceChildren(icon(muted ? 'bell-off' : 'bell'), el('span', { class: 'label', text: muted ? 'Muted' : 'Mute' }));
  }
  attr(els.mute, 'title', muted ? 'Notifications from this conversation are off. Click to turn them on.' : 'Turn off notifications from this conversation');
  attr(els.dnd, 'aria-pressed', state.prefs.dnd ? 'true' : 'false');
  attr(els.dnd, 'title', state.prefs.dnd ? 'Do not disturb is on: no notifications. Click to turn it off.' : 'Do not disturb: no notifications at all');
  els.dnd.classList.toggle('on', state.prefs.dnd);
  show(els.leave, Boolean(c && !dm && c.joined));
  els.composer.placeholder = key ? `Message ${dm ? displayName(state, key) : `#${key}`}` : 'Pick a conversation first';
}

/**
 * The rules line under the header, the moderator's controls, and the composer while a room is locked or the user is
 * muted there (then the composer says so, `#muted-note`, and Send and Poll are off too).
 */
export function renderRules(state, els, now = Date.now(), { moderator = state.moderating } = {}) {
  const key = state.active;
  const c = key ? state.convs.get(key) : null;
  const room = Boolean(c && !c.dm && c.joined);
  const rules = room ? state.rules.get(key) : null;
  const text = rulesText(rules, state.moderating, now);
  setText(els.text, text);
  // `moderator`: the server said `moderating` and the bridge can send the requests (features.moderate).
  const controls = room && moderator;
  show(els.controls, controls);
  const hands = room ? state.hands.get(key) || [] : [];
  const queue = controls && hands.length > 0;
  show(els.hands, queue);
  if (queue) {
    setText(els.handsText, `Hands up: ${hands.join(', ')}`);
    setText(els.callOn, `Call on ${hands[0]}`);
    els.callOn.dataset.nick = hands[0];
  }
  show(els.bar, Boolean(text) || controls);
  // Everyone else raises and lowers their own hand.
  const mine = hands.some((nick) => nick.toLowerCase() === state.me.toLowerCase());
  show(els.hand, room && !state.moderating);
  attr(els.hand, 'aria-pressed', mine ? 'true' : 'false');
  els.hand.classList.toggle('on', mine);
  setText(els.hand, mine ? 'Lower hand' : 'Raise hand');
  const locked = Boolean(rules && rules.locked);
  show(els.lock, !locked);
  show(els.lockTimed, !locked);
  show(els.unlock, locked);
  const slow = String(rules ? rules.slowModeS : 0);
  if (els.slow.value !== slow && [...els.slow.options].some((o) => o.value === slow)) els.slow.value = slow;
  const muted = room && mutedHere(state, key);
  const silenced = (locked && !state.moderating) || muted;
  els.composer.disabled = silenced;
  els.send.disabled = silenced;
  els.poll.disabled = silenced;
  if (muted) els.composer.placeholder = 'A moderator muted you here';
  else if (silenced) els.composer.placeholder = 'Only moderators can write while the room is locked';
  setText(els.mutedNote, muted ? mutedNote(key) : '');
  show(els.mutedNote, muted);
}

/**
 * The connection banner: what is happening and what to do. `extra`: `{ backOnline, canRetry, url }`.
 * Returns whether it is shown.
 */
export function renderBanner(state, els, extra, now = Date.now()) {
  const { conn } = state;
  let text = '';
  let detail = '';
  let kind = '';
  let back = false;
  let retry = false;
  switch (conn.state) {
    case 'connecting':
      text = `Connecting to ${extra.url || 'the server'}…`;
      kind = 'info';
      break;
    case 'reconnecting': {
      const secs = Math.max(0, Math.ceil((conn.retryAt - now) / 1000));
      text = secs > 0
        ? `Connection lost — reconnecting in ${secs} s (attempt ${conn.attempt}). Messages you send will go out when we're back.`
        : `Connection lost — reconnecting now (attempt ${conn.attempt}). Messages you send will go out when we're back.`;
      detail = conn.reason ? `Last problem: ${conn.reason}` : '';
      kind = 'warn';
      break;
    }
    case 'offline':
      text = `Disconnected: ${conn.reason || 'the connection ended'}.`;
      detail = extra.canRetry
        ? 'Try again, or go back to the connect screen to change the server or nickname.'
        : 'Go back to the connect screen to connect again.';
      kind = 'error';
      back = true;
      retry = extra.canRetry;
      break;
    case 'untrusted':
      text = "Not connected: the server's certificate changed.";
      detail = 'Compare the fingerprints with the host before trusting it, or go back to the connect screen.';
      kind = 'error';
      back = true;
      break;
    case 'online':
      if (extra.backOnline) {
        text = 'Back online. Everything you missed is here.';
        kind = 'ok';
      }
      break;
    default:
      break;
  }
  setText(els.text, text);
  setText(els.detail, detail);
  show(els.detail, Boolean(detail));
  show(els.back, back);
  show(els.retry, retry);
  els.banner.className = `banner ${kind}`;
  show(els.banner, Boolean(text));
  return Boolean(text);
}

/** The recent servers on the connect screen (`appInfo().profiles`). */
export function renderRecent(list, section, profiles) {
  show(section, profiles.length > 0);
  reconcile(list, profiles, {
    key: (p) => `${p.url}\u0000${p.nick}\u0000${p.remembered ? 1 : 0}`,
    create: (p) =>
      el(
        'li',
        { class: 'recent' },
        el(
          'button',
          { type: 'button', class: 'recent-server', dataset: { url: p.url, nick: p.nick }, title: `Fill in ${p.nick} on ${p.url}` },
          el('span', { class: 'recent-nick' }, el('span', { class: 'recent-name', text: p.nick }), p.remembered ? el('span', { class: 'tag', text: 'remembered' }) : null),
          el('span', { class: 'recent-url', text: p.url }),
        ),
        el(
          'button',
          { type: 'button', class: 'icon-btn forget-btn', 'aria-label': `Forget ${p.nick} on ${p.url}`, title: 'Forget this server' },
          icon('x'),
        ),
      ),
    update: () => {},
  });
}

/** The host panel: the addresses (and the join code) others can use, while this app hosts a server. */
export function renderHostPanel(els, host) {
  show(els.panel, Boolean(host));
  document.body.classList.toggle('hosting', Boolean(host));
  if (!host) return;
  const urls = host.lan && host.urls && host.urls.length ? host.urls : [host.local_url];
  setText(els.desc, host.lan ? 'Others on your network join with the link' : 'Only this computer can join, at');
  // The join code (PROTOCOL.md §2.5): what people type instead of the link, read out big.
  show(els.codeLine, Boolean(host.join_code));
  setText(els.code, host.join_code || '');
  show(els.fingerprintLine, Boolean(host.fingerprint));
  setText(els.fingerprint, host.fingerprint || '');
  reconcile(els.urls, urls, {
    key: (u) => u,
    create: (u) => el('li', {}, el('code', { class: 'host-url', text: u })),
    update: () => {},
  });
  attr(els.copy, 'aria-label', urls.length > 1 ? `Copy the first address, ${urls[0]}` : `Copy ${urls[0]}`);
}

/** What each identity is called, and what it means (the tooltip). */
export const IDENTITIES = Object.freeze({
  guest: ['Guest', 'Anyone can use this nickname while you are away. Register it to keep it.'],
  device: ['Kept by this device', 'Only this computer can use this nickname here. Register it to use it on other computers too.'],
  account: ['Registered account', 'You are signed in. On another computer, sign in with the password.'],
});

/** The identity line under the nickname, and which account action fits. */
export function renderIdentity(state, els) {
  const [label, help] = IDENTITIES[state.identity] || ['', ''];
  setText(els.identity, label);
  attr(els.identity, 'title', help || null);
  const online = state.conn.state === 'online';
  show(els.register, online && (state.identity === 'guest' || state.identity === 'device'));
  show(els.logout, online && state.identity === 'account');
}
