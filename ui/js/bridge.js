// The bridge between the UI and the Tauri shell: the only module that touches `window.__TAURI__`.
//
// It implements every method of docs/APP-BRIDGE.md. Each returns a Promise; a failure rejects with
// `{ code, message }` (anything else the shell throws is normalised into that shape). Outside the app (the page
// served by parlor-server to a browser) it exports web-bridge.js's object instead, which speaks the same methods
// over a WebSocket; nothing else in ui/ knows which one it has. `features` says what the one in use can do.

import { createWebBridge } from './web-bridge.js';

/** The Tauri 2 global API (`app.withGlobalTauri: true`), or null when the page runs outside the app. */
const tauriCore = (typeof window !== 'undefined' && window.__TAURI__ && window.__TAURI__.core) || null;

/** Error codes of docs/APP-BRIDGE.md; anything else the shell sends is kept but treated as generic. */
export const ERROR_CODES = Object.freeze([
  'not_connected', 'invalid_input', 'keyring', 'config', 'host_failed', 'already_hosting', 'storage', 'internal',
]);

/**
 * Turns whatever a rejected `invoke` carries into `{ code, message }`, so callers can branch on `code` and show
 * `message` without checking types.
 */
export function normaliseError(err) {
  if (err && typeof err === 'object' && typeof err.code === 'string') {
    const message = typeof err.message === 'string' && err.message ? err.message : err.code.replace(/_/g, ' ');
    return { code: err.code, message };
  }
  if (typeof err === 'string') {
    // The shell may serialise its error as a JSON string; accept that too.
    try {
      const parsed = JSON.parse(err);
      if (parsed && typeof parsed === 'object' && typeof parsed.code === 'string') return normaliseError(parsed);
    } catch {
      // Not JSON: a plain sentence.
    }
    return { code: 'internal', message: err || 'Something went wrong.' };
  }
  if (err instanceof Error) return { code: 'internal', message: err.message || 'Something went wrong.' };
  return { code: 'internal', message: 'Something went wrong.' };
}

const unavailable = {
  code: 'internal',
  message: 'The Parlor app is not available here. Open this window from the Parlor desktop app.',
};

/** Calls a Tauri command; rejections are normalised. */
async function call(command, args) {
  if (!tauriCore) throw unavailable;
  try {
    return await tauriCore.invoke(command, args);
  } catch (err) {
    throw normaliseError(err);
  }
}

/**
 * Each connect gets a fresh channel; events from an older channel (a previous connection still winding down) are
 * dropped, so the UI only ever sees the current connection's stream.
 */
let generation = 0;

function eventChannel(onEvent) {
  if (!tauriCore) throw unavailable;
  const mine = ++generation;
  const channel = new tauriCore.Channel();
  channel.onmessage = (event) => {
    if (mine !== generation) return;
    try {
      onEvent(event);
    } catch (err) {
      // A rendering bug must not break the stream for the events that follow.
      console.error('parlor: event handler failed', err, event);
    }
  };
  return channel;
}

/** The bridge object of docs/APP-BRIDGE.md, inside the desktop app. */
const appBridge = Object.freeze({
  /** True when running inside the app (the shell's API is present). */
  available: Boolean(tauriCore),
  /**
   * The desktop app can do everything the UI offers (see web-bridge.js for the browser's subset). `moderate`: the
   * moderator's requests exist here (they take effect once the server says `moderating`). `links`: links in
   * messages open in the system browser through `openLink`, never in the app's webview.
   */
  features: Object.freeze({
    host: true, profiles: true, trust: true, address: true, notifications: true, moderate: true, links: true,
  }),

  appInfo: () => call('app_info', {}),
  autoConnect: (onEvent) => call('auto_connect', { onEvent: eventChannel(onEvent) }),
  connect: ({ url, nick, password, accountPassword, remember }, onEvent) =>
    call('connect', {
      url,
      nick,
      password: password ?? '',
      accountPassword: accountPassword ?? '',
      remember: Boolean(remember),
      onEvent: eventChannel(onEvent),
    }),
  disconnect: () => {
    generation++; // Stop delivering the old stream's events right away.
    return call('disconnect', {});
  },
  forgetProfile: ({ url, nick }) => call('forget_profile', { url, nick }),
  // The new connection's events arrive on the current stream: no new channel.
  trustCertificate: ({ fingerprint }) => call('trust_certificate', { fingerprint }),
  register: ({ password }) => call('register_nickname', { password }),
  logoutEverywhere: () => call('logout_everywhere', {}),
  send: ({ room, text, replyTo }) => call('send_message', { room, text, replyTo: replyTo ?? null }),
  sendPoll: ({ room, question, options, multiple }) =>
    call('send_poll', { room, question, options: [...options], multiple: Boolean(multiple) }),
  sendAnnouncement: ({ room, text }) => call('send_announcement', { room, text }),
  acknowledge: ({ room, seq }) => call('acknowledge', { room, seq }),
  muteMember: ({ room, nick, muted }) => call('mute_member', { room, nick, muted: Boolean(muted) }),
  removeMember: ({ room, nick, removed }) => call('remove_member', { room, nick, removed: Boolean(removed) }),
  pinMessage: ({ room, seq }) => call('pin_message', { room, seq: seq ?? null }),
  vote: ({ room, seq, choices }) => call('vote', { room, seq, choices: [...choices] }),
  closePoll: ({ room, seq }) => call('close_poll', { room, seq }),
  react: ({ room, seq, emoji, on }) => call('react', { room, seq, emoji, on: Boolean(on) }),
  editMessage: ({ room, seq, text }) => call('edit_message', { room, seq, text }),
  deleteMessage: ({ room, seq }) => call('delete_message', { room, seq }),
  join: ({ room, password }) => call('join_room', { room, password: password || null }),
  leave: ({ room }) => call('leave_room', { room }),
  createRoom: ({ room, topic, password }) =>
    call('create_room', { room, topic: topic ?? '', password: password || null }),
  setRoomPassword: ({ room, password }) => call('set_room_password', { room, password: password ?? '' }),
  search: ({ room, query, before }) => call('search_room', { room, query, before: before ?? null }),
  exportRoom: ({ room, format }) => call('export_room', { room, format }),
  openLink: ({ url }) => call('open_link', { url }),
  setTopic: ({ room, topic }) => call('set_topic', { room, topic }),
  typing: ({ room, typing }) => call('set_typing', { room, typing: Boolean(typing) }),
  lockRoom: ({ room, seconds }) => call('lock_room', { room, seconds: seconds ?? null }),
  unlockRoom: ({ room }) => call('unlock_room', { room }),
  slowMode: ({ room, seconds }) => call('slow_mode', { room, seconds }),
  raiseHand: ({ room, raised }) => call('raise_hand', { room, raised: Boolean(raised) }),
  callOn: ({ room, nick }) => call('call_on', { room, nick }),
  clearHands: ({ room }) => call('clear_hands', { room }),
  history: ({ room, before, after }) => call('load_history', { room, before: before ?? null, after: after ?? null }),
  hostStart: ({ lan }) => call('host_start', { lan: Boolean(lan) }),
  hostStop: () => call('host_stop', {}),
  hostStatus: () => call('host_status', {}),
  setNotifyPrefs: ({ dnd, muted }) => call('set_notify_prefs', { dnd: Boolean(dnd), muted: [...muted] }),
  setActiveRoom: ({ room }) => call('set_active_room', { room }),
  setUnread: ({ total }) => call('set_unread', { total }),
});

/** The app's bridge inside the desktop app; in a browser, the one that talks to the server that served the page. */
export const bridge = tauriCore || typeof window === 'undefined' ? appBridge : createWebBridge(window.location);

export default bridge;
