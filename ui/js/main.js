// Start-up and wiring: owns the state, feeds bridge events into it, carries out the effects it returns, and redraws
// (at most once per animation frame). The connect screen and the chat screen each have their own module.
//
// Start-up: `appInfo()` (recent servers), then `autoConnect(onEvent)`; when that returns null the connect screen
// stays up.

import bridge from './bridge.js';
import {
  createState, startSession, setVisible, pruneTyping, addNotice, conv, requestOlder, requestNewer, historyFailed,
} from './state.js';
import { applyEvent } from './events.js';
import { atNewest } from './conversation.js';
import { totalUnread, openConversations } from './selectors.js';
import * as store from './store.js';
import { fillIcons, setText, hue, initial, show } from './view/dom.js';
import { renderBanner, renderHeader, renderRules, renderTyping, renderIdentity } from './view/chrome.js';
import { renderConversations } from './view/sidebar.js';
import { renderOnline, renderRemoved } from './view/members.js';
import { renderPinned } from './view/pinned.js';
import { createLiveChart } from './view/live-chart.js';
import { createMessageView } from './view/messages.js';
import { setupConnect } from './connect.js';
import { setupChat } from './chat.js';
import { setupAccount } from './account.js';
import { setupPollDialog } from './poll-dialog.js';
import { setupMessageActions } from './message-actions.js';
import { setupClassControls } from './class-controls.js';
import { setupSearchBox } from './search-box.js';
import { searchFailed } from './search.js';
import { roomPasswordSendFailed } from './room-password.js';
import { setupRoomPasswordDialogs } from './room-password-dialog.js';
import { setupExportMenu } from './export-menu.js';
import { setupSnippetsMenu } from './snippets-menu.js';
import { setupLinks } from './links.js';

const $ = (id) => document.getElementById(id);
const noop = () => {};

/** Shared by the screen modules: the state, the bridge, and the few app-wide actions. */
const app = {
  bridge,
  state: createState(store.loadPrefs()),
  screen: 'connect',
  /** Where the current session shows itself before its first `welcome`: 'form' (connect screen) or 'chat'. */
  entry: null,
  /** How to connect again after an `offline`, or null. */
  retry: null,
  /** The connect form's values `retry` uses (the account password is dropped once signed in). */
  retryArgs: null,
  /** `hostStart`/`hostStatus` result while this app hosts a server. */
  host: null,
  /** What the bridge can do (`bridge.features`): the moderator's controls need `moderate`. */
  features: {},
  backOnlineUntil: 0,
  stickNext: false,
  lastUnread: 0,
  lastOpen: '',
};

let els;
let messages;
let liveChart;
let connectScreen;
let chat;
let account;
let searchBox;
let roomPasswords;
let exportMenu;
let frame = 0;
let persistTimer = 0;

// --- Sessions -------------------------------------------------------------------------------------------------

/** Forgets the previous server's state and prepares for a connection to `url` as `nick`. */
app.beginSession = (url, nick, entry) => {
  const open = store.loadOpen(url, nick);
  startSession(app.state, { url, nick }, open);
  app.state.seen = store.loadSeen(url, nick);
  for (const [key, name] of Object.entries(open.names)) app.state.dmNames.set(key, name);
  app.entry = entry;
  if (chat) chat.reply.clear(); // The messages being answered belonged to the previous server.
  app.lastOpen = '';
  app.backOnlineUntil = 0;
  app.render();
};

/** Connects with the connect form's values (or the host's address). `entry`: see `app.entry`. */
app.connect = async (args, entry = 'form') => {
  app.beginSession(args.url, args.nick, entry);
  app.retryArgs = { ...args };
  app.retry = () => app.connect(app.retryArgs, 'chat');
  if (entry === 'chat') app.showScreen('chat');
  const session = app.state.session;
  try {
    const result = await bridge.connect(args, onEvent);
    if (app.state.session === session && result) {
      // The app says which server it reached (for a join code, the one that answered it): remember things under
      // that. A retry goes there too when a code was typed, since the code changes when its server restarts (a
      // link is kept as typed: its fingerprint is what the first connection checks).
      const moved = store.serverKey(session.url, session.nick) !== store.serverKey(result.url, result.nick);
      Object.assign(session, result);
      const typedCode = /^[A-Za-z0-9 -]+$/.test(String(args.url).trim());
      if (typedCode && app.retryArgs && result.url) app.retryArgs = { ...app.retryArgs, url: result.url };
      if (moved) {
        app.state.seen = store.loadSeen(result.url, result.nick);
        if (!app.state.welcomed) app.state.restore = store.loadOpen(result.url, result.nick);
      }
    }
    return true;
  } catch (err) {
    if (app.state.session !== session) return false; // The user has moved on.
    app.state.session = null;
    app.state.conn = { state: 'idle', attempt: 0, retryAt: 0, reason: '' };
    app.showScreen('connect');
    connectScreen.failed(err.message);
    return false;
  }
};

/** Connects with the most recent remembered profile; returns false when there is none. */
app.autoConnect = async (guess) => {
  if (guess) app.beginSession(guess.url, guess.nick, 'chat');
  else startSession(app.state, null, null);
  app.retry = () => app.autoConnect(guess);
  const session = app.state.session;
  let result;
  try {
    result = await bridge.autoConnect(onEvent);
  } catch (err) {
    if (app.state.session !== session) return false;
    app.state.session = null;
    app.state.conn = { state: 'idle', attempt: 0, retryAt: 0, reason: '' };
    app.showScreen('connect');
    connectScreen.failed(err.message);
    return false;
  }
  if (app.state.session !== session) return false; // The user started another connection meanwhile.
  if (!result) {
    app.state.session = null;
    app.state.conn = { state: 'idle', attempt: 0, retryAt: 0, reason: '' };
    app.retry = null;
    return false;
  }
  const s = app.state;
  if (s.conn.state === 'offline' && !s.welcomed) return false; // Refused at once: the connect screen says why.
  if (!s.session || store.serverKey(s.session.url, s.session.nick) !== store.serverKey(result.url, result.nick)) {
    // The guess was wrong: remember under the right name, and reopen that profile's rooms if welcome came first.
    s.session = { ...result };
    s.seen = store.loadSeen(result.url, result.nick);
    const restore = store.loadOpen(result.url, result.nick);
    if (s.welcomed) for (const room of restore.rooms) chat.open(room, { focus: false, switchTo: false });
    else s.restore = restore;
  } else {
    Object.assign(s.session, result);
  }
  app.entry = 'chat';
  app.retry = () => app.autoConnect(result);
  app.showScreen('chat');
  chat.focusComposer();
  return true;
};

/** Ends the connection and shows the connect screen, with `note` in its message line (`info`: not an error). */
app.disconnect = async (note = '', info = false) => {
  const session = app.state.session;
  bridge.disconnect().catch(noop);
  startSession(app.state, null, null);
  app.state.conn = { state: 'idle', attempt: 0, retryAt: 0, reason: '' };
  app.entry = null;
  app.retry = null;
  app.retryArgs = null;
  account.hideTrust();
  app.showScreen('connect');
  connectScreen.prefill(session);
  if (note) connectScreen.failed(note, info);
  await connectScreen.refreshProfiles();
};

/** A line for the user in the conversation on screen (or the connect screen's message line). */
app.note = (text) => {
  const s = app.state;
  if (s.active) addNotice(s, s.active, 'error', text);
  else connectScreen.failed(text);
  app.render();
};

/** Starts the current connection's UI state over (the shell is replacing the connection with a new one). */
app.restartSession = () => {
  const session = app.state.session;
  if (!session) return;
  app.beginSession(session.url, session.nick, app.screen === 'chat' ? 'chat' : 'form');
};

/**
 * The user trusted the server's new certificate and the shell is connecting again (`{ url, nick }`: the address
 * without the old link's fingerprint, which named the old certificate).
 */
app.trusted = (result) => {
  const s = app.state;
  if (result && s.session) Object.assign(s.session, result);
  if (result && app.retryArgs) app.retryArgs = { ...app.retryArgs, url: result.url };
  if (app.screen === 'connect') connectScreen.busy(true);
  app.render();
};

// --- Events ---------------------------------------------------------------------------------------------------

function onEvent(event) {
  const s = app.state;
  const before = s.conn.state;
  const wasWelcomed = s.welcomed;
  const effects = applyEvent(s, event);
  if (event.kind === 'state') {
    if (event.state === 'online' && before === 'reconnecting' && wasWelcomed) {
      app.backOnlineUntil = Date.now() + 4000;
      // A room opened while the connection was down could not be joined then: join it now.
      const c = s.active && s.convs.get(s.active);
      if (c && !c.joined && !c.joining) {
        c.joining = true;
        effects.push({ type: 'join', room: c.key });
      }
    }
    if ((event.state === 'offline' || event.state === 'untrusted') && !s.welcomed) {
      // Refused before the first welcome (e.g. the nickname is taken): the connect screen says why.
      const session = s.session;
      app.showScreen('connect');
      connectScreen.prefill(session);
      connectScreen.failed(event.reason || 'Could not connect.');
    }
    // Never trusted silently: the user compares the fingerprints and decides.
    if (event.state === 'untrusted') account.showTrust(s.conn);
  }
  if (!wasWelcomed && s.welcomed) {
    // Signed in: from now on a retry uses the sign-in the shell keeps, not the typed password.
    if (app.retryArgs) app.retryArgs = { ...app.retryArgs, accountPassword: '' };
    if (app.screen !== 'chat') {
      app.showScreen('chat');
      chat.focusComposer();
    }
  }
  app.run(effects);
  app.render();
}

/** Carries out the effects `state.js` asks for. */
app.run = (effects) => {
  const s = app.state;
  const session = s.session;
  // `quiet`: not worth a line in the conversation (the banner already says the connection is down).
  const failed = (room, fix, quiet = false) => (err) => {
    if (s.session !== session) return; // A different connection by now.
    const c = conv(s, room);
    fix(c);
    if (!(quiet && err.code === 'not_connected')) addNotice(s, room, 'error', err.message);
    app.render();
  };
  for (const e of effects) {
    if (e.type === 'join') {
      // `password` only on the join that answers the room-password dialog (room-password.js).
      const fix = (c) => {
        c.joining = false;
        roomPasswordSendFailed(s, e.room);
      };
      bridge.join({ room: e.room, password: e.password }).catch(failed(e.room, fix));
    } else if (e.type === 'search') {
      bridge.search({ room: e.room, query: e.query, before: e.before }).catch((err) => {
        if (s.session !== session) return;
        searchFailed(s, err.message);
        app.render();
      });
    } else if (e.type === 'history') {
      const page = { room: e.room, before: e.before, after: e.after };
      bridge.history(page).catch(failed(e.room, () => historyFailed(s, e.room, e.id), true));
    } else if (e.type === 'active') {
      bridge.setActiveRoom({ room: e.room }).catch(noop);
    } else if (e.type === 'save-prefs') {
      store.savePrefs(s.prefs);
    }
  }
};

// --- Rendering ------------------------------------------------------------------------------------------------

app.showScreen = (name) => {
  app.screen = name;
  els.connect.hidden = name !== 'connect';
  els.chat.hidden = name !== 'chat';
  document.body.classList.toggle('in-chat', name === 'chat');
  app.render(true);
};

/**
 * Redraws: at the next animation frame (events come in bursts), or at once with `now` (after a user action, so the
 * control they used reflects it immediately). Saving and the unread total do not wait for a frame: a hidden window
 * gets none, and the tray must still learn about new messages.
 */
app.render = (now = false) => {
  if (now) {
    if (frame) cancelAnimationFrame(frame);
    draw();
  } else if (!frame) {
    frame = requestAnimationFrame(draw);
  }
  if (!persistTimer) persistTimer = setTimeout(persist, 50);
};

function draw() {
  frame = 0;
  const s = app.state;
  const now = Date.now();
  if (app.screen === 'chat') {
    // Moderator controls show only where they can work: the bridge moderates and the server said `moderating`.
    const moderator = Boolean(app.features.moderate) && s.moderating;
    renderConversations(s, els.roomList, els.dmList, els.dmEmpty);
    renderOnline(s, els.onlineList, els.onlineHeading, { moderator });
    renderRemoved(s, els.removedSection, els.removedList, { moderator });
    renderHeader(s, els.header);
    if (searchBox) searchBox.render();
    if (exportMenu) exportMenu.render();
    renderRules(s, els.rules, now, { moderator });
    chat.announce.render(moderator);
    renderPinned(s, els.pinned, { moderator });
    liveChart.render(s, s.active);
    renderTyping(s, els.typingLine, now);
    const c = s.active ? s.convs.get(s.active) : null;
    messages.render(s, c, { stickToBottom: app.stickNext, moderator });
    app.stickNext = false;
    const session = s.session || {};
    setText(els.meNick, s.me || session.nick || '');
    setText(els.meServer, session.url || '');
    renderIdentity(s, els.identity);
    account.render();
    els.meAvatar.className = `avatar c${hue(s.me || session.nick || '')}`;
    setText(els.meAvatar, initial(s.me || session.nick || '?'));
    renderBanner(s, els.banner, { backOnline: now < app.backOnlineUntil, canRetry: Boolean(app.retry), url: session.url }, now);
  } else {
    connectScreen.renderProgress(now);
  }
  // Open only while a join waits for the room's password; on the connect screen there is none.
  if (roomPasswords) roomPasswords.render();
}

/** Saves what should survive a restart, and tells the app the unread total when it changes. */
function persist() {
  persistTimer = 0;
  const s = app.state;
  const total = totalUnread(s);
  if (total !== app.lastUnread) {
    app.lastUnread = total;
    bridge.setUnread({ total }).catch(noop);
  }
  if (!s.session || !s.welcomed) return;
  const rooms = openConversations(s);
  const names = Object.fromEntries(rooms.filter((r) => s.dmNames.has(r)).map((r) => [r, s.dmNames.get(r)]));
  const open = JSON.stringify({ rooms, active: s.active, names });
  if (open !== app.lastOpen) {
    app.lastOpen = open;
    store.saveOpen(s.session.url, s.session.nick, JSON.parse(open));
  }
  if (s.seenDirty) {
    s.seenDirty = false;
    store.saveSeen(s.session.url, s.session.nick, s.seen);
  }
}

/** Once a second: lapsed typing indicators, the reconnect countdown, the "back online" note. */
function tick() {
  const s = app.state;
  const now = Date.now();
  const typingChanged = pruneTyping(s, now);
  const counting = s.conn.state === 'reconnecting' || (app.backOnlineUntil && now - app.backOnlineUntil < 1500);
  const rules = s.active ? s.rules.get(s.active) : null;
  const lockCountdown = Boolean(rules && rules.lockedUntilMs);
  if (typingChanged || counting || lockCountdown || s.conn.state === 'connecting') app.render();
}

// --- Start-up -------------------------------------------------------------------------------------------------

/**
 * Hides the controls the bridge in use cannot carry out (in a browser: hosting, remembered servers, another
 * server's address; notification switches when the browser has no notifications), so no button is ever broken.
 */
function applyFeatures(features) {
  const f = features || {};
  app.features = f;
  const hide = (node) => node && show(node, false);
  if (!f.host) for (const id of ['host-btn', 'host-panel']) hide($(id));
  if (!f.host) hide(document.querySelector('.divider-or'));
  if (!f.profiles) {
    hide($('recent-section'));
    hide($('remember') && $('remember').closest('label'));
  }
  if (!f.address) {
    const url = $('server-url');
    url.value = bridge.serverAddress || url.value;
    hide(url.closest('.field'));
  }
  if (!f.notifications) for (const id of ['dnd-toggle', 'mute-toggle']) hide($(id));
  document.body.classList.toggle('in-browser', !f.host);
}

async function start() {
  fillIcons();
  applyFeatures(bridge.features);
  els = {
    connect: $('connect-screen'),
    chat: $('chat-screen'),
    roomList: $('room-list'),
    dmList: $('dm-list'),
    dmEmpty: $('dm-empty'),
    onlineList: $('online-list'),
    onlineHeading: $('online-heading'),
    removedSection: $('removed-section'),
    removedList: $('removed-list'),
    pinned: { bar: $('pinned-bar'), open: $('pinned-open'), from: $('pinned-from'), text: $('pinned-text'), unpin: $('unpin-btn') },
    typingLine: $('typing-line'),
    meNick: $('me-nick'),
    meServer: $('me-server'),
    meAvatar: $('me-avatar'),
    identity: { identity: $('me-identity'), register: $('register-btn'), logout: $('logout-everywhere-btn') },
    header: {
      title: $('room-title'),
      topic: $('room-topic'),
      topicForm: $('topic-form'),
      mute: $('mute-toggle'),
      dnd: $('dnd-toggle'),
      leave: $('leave-btn'),
      composer: $('composer-input'),
    },
    rules: {
      bar: $('room-rules'),
      text: $('room-rules-text'),
      controls: $('mod-controls'),
      lock: $('lock-btn'),
      lockTimed: $('lock-timed-btn'),
      unlock: $('unlock-btn'),
      slow: $('slow-mode-select'),
      composer: $('composer-input'),
      send: $('send-btn'),
      poll: $('poll-btn'),
      mutedNote: $('muted-note'),
      hands: $('hands-queue'),
      handsText: $('hands-text'),
      callOn: $('call-on-btn'),
      hand: $('hand-btn'),
    },
    banner: {
      banner: $('banner'),
      text: $('banner-text'),
      detail: $('banner-detail'),
      back: $('banner-back-btn'),
      retry: $('banner-retry-btn'),
    },
  };
  messages = createMessageView(
    {
      scroller: $('scroller'),
      list: $('messages'),
      olderBtn: $('load-older-btn'),
      start: $('history-start'),
      empty: $('messages-empty'),
      jumpBtn: $('jump-btn'),
    },
    {
      // Where the reader is decides which way the window slides: near the top it pages older messages in, near the
      // bottom of a window that is not at the newest it pages newer ones in.
      onScroll: ({ atBottom, nearTop, nearBottom }) => {
        const s = app.state;
        const c = s.active && s.convs.get(s.active);
        if (!c) return;
        c.atBottom = atBottom;
        if (s.conn.state !== 'online') return; // Pages can be asked for again once the connection is back.
        const effects = [];
        if (nearTop && c.hasMore) effects.push(...requestOlder(s, c.key));
        else if (nearBottom && !atNewest(c)) effects.push(...requestNewer(s, c.key));
        if (effects.length) {
          app.run(effects);
          app.render();
        }
      },
    },
  );
  liveChart = createLiveChart(
    { panel: $('live-chart'), from: $('live-chart-from'), legend: $('live-chart-legend'), hide: $('live-chart-hide'), plot: $('live-chart-plot') },
    { onChange: () => app.render() },
  );
  connectScreen = setupConnect(app);
  chat = setupChat(app, messages);
  account = setupAccount(app);
  setupPollDialog(app, messages);
  setupMessageActions(app, messages, chat);
  setupClassControls(app);
  searchBox = setupSearchBox(app, messages);
  roomPasswords = setupRoomPasswordDialogs(app);
  exportMenu = setupExportMenu(app);
  setupSnippetsMenu($('composer-input'));
  setupLinks(app);
  app.focusComposer = () => chat.focusComposer();

  document.addEventListener('visibilitychange', () => {
    setVisible(app.state, document.visibilityState === 'visible');
    app.render();
  });
  setInterval(tick, 1000);

  bridge.setNotifyPrefs({ dnd: app.state.prefs.dnd, muted: [...app.state.prefs.muted] }).catch(noop);
  bridge.hostStatus().then((host) => connectScreen.setHost(host), noop);

  const profiles = await connectScreen.refreshProfiles();
  if (profiles === null) return; // The app is not reachable: the error is on screen.
  const guess = profiles.find((p) => p.remembered) || null;
  const connected = await app.autoConnect(guess);
  if (!connected && app.screen === 'connect') connectScreen.focusFirst();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
