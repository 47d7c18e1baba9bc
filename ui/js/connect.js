// The connect screen: the form, recent servers, and hosting (the "Who may join?" dialog and the host panel).

import * as store from './store.js';
import { renderRecent, renderHostPanel } from './view/chrome.js';
import { setText, show, openModal, closeModal } from './view/dom.js';

const $ = (id) => document.getElementById(id);
const noop = () => {};

/** Nickname rule of PROTOCOL.md §4: 1–32 letters or digits of any script, or `_` `-` `.`. */
const NICK_RE = /^[\p{Alphabetic}\p{N}_.-]+$/u;

/** What is wrong with a nickname, as a sentence with what to do, or '' when it is fine. */
export function nickProblem(nick) {
  if (!nick) return 'Enter a nickname: it is the name the others will see.';
  if ([...nick].length > 32) return 'That nickname is too long: use at most 32 characters.';
  if (!NICK_RE.test(nick)) return 'A nickname can only have letters, digits and _ - . (no spaces or @). Please change it.';
  return '';
}

/** A reason from the app as a sentence: capital first letter, final full stop. */
export function sentence(text) {
  const t = String(text || '').trim();
  if (!t) return '';
  const s = t[0].toUpperCase() + t.slice(1);
  return /[.!?…]$/.test(s) ? s : `${s}.`;
}

/**
 * What to add to a refusal of `hello` so the user knows which field to fix, and that field's id. The server's
 * sentence already says what happened; the connect form has two password fields, so the hint names the right one.
 */
export function signInHint(reason) {
  const text = String(reason || '');
  if (/password/i.test(text) && /nickname|sign.?in/i.test(text)) {
    return { field: 'account-password', hint: 'Type it under “Password for my nickname”.' };
  }
  if (/another device/i.test(text)) return { field: 'nick', hint: '' };
  return { field: '', hint: '' };
}

export function setupConnect(app) {
  const form = $('connect-form');
  const url = $('server-url');
  const nick = $('nick');
  const password = $('password');
  const accountPassword = $('account-password');
  const remember = $('remember');
  const connectBtn = $('connect-btn');
  const cancelBtn = $('connect-cancel-btn');
  const error = $('connect-error');
  const recentList = $('recent-servers');
  const recentSection = $('recent-section');
  const hostBtn = $('host-btn');
  const dialog = $('host-dialog');
  const hostLocal = $('host-local-btn');
  const hostLan = $('host-lan-btn');
  const hostCancel = $('host-cancel-btn');
  const hostError = $('host-error');
  const panel = {
    panel: $('host-panel'),
    desc: $('host-panel-desc'),
    urls: $('host-urls'),
    copy: $('host-copy-btn'),
    stop: $('host-stop-btn'),
    status: $('host-copy-status'),
    fingerprintLine: $('host-fingerprint-line'),
    fingerprint: $('host-fingerprint'),
    codeLine: $('host-code-line'),
    code: $('host-join-code'),
    codeCopy: $('host-code-copy-btn'),
  };
  let profiles = [];

  function fail(message, focus, info = false) {
    const { field, hint } = info ? { field: '', hint: '' } : signInHint(message);
    setText(error, hint ? `${sentence(message)} ${hint}` : sentence(message));
    error.classList.toggle('info', info);
    show(error, Boolean(message));
    if (focus) focus.focus();
    else if (field) $(field).focus();
  }

  function busy(on) {
    connectBtn.disabled = on;
    setText(connectBtn, on ? 'Connecting…' : 'Connect');
    show(cancelBtn, on);
    for (const input of [url, nick, password, accountPassword, remember, hostBtn]) input.disabled = on;
  }

  /** Whether a connection started from this form is under way (before its first welcome). */
  const connecting = () =>
    app.entry === 'form' && app.state.session && !app.state.welcomed && !['offline', 'untrusted'].includes(app.state.conn.state);

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const address = url.value.trim();
    const name = nick.value.trim();
    if (!address) return fail('Enter the server address, for example 192.168.1.20:7878.', url);
    const problem = nickProblem(name);
    if (problem) return fail(problem, nick);
    show(error, false);
    busy(true);
    const typed = accountPassword.value;
    // The account password goes to the shell once (which trades it for a sign-in) and does not stay in the page.
    accountPassword.value = '';
    app
      .connect({ url: address, nick: name, password: password.value, accountPassword: typed, remember: remember.checked }, 'form')
      .then(() => app.render());
  });

  cancelBtn.addEventListener('click', () => {
    app.disconnect('');
    busy(false);
    url.focus();
  });

  // Recent servers: clicking one fills the form; its × forgets it.
  recentList.addEventListener('click', async (e) => {
    const fill = e.target.closest('.recent-server');
    const forget = e.target.closest('.forget-btn');
    if (fill) {
      const p = profiles.find((x) => x.url === fill.dataset.url && x.nick === fill.dataset.nick);
      url.value = fill.dataset.url;
      nick.value = fill.dataset.nick;
      password.value = '';
      accountPassword.value = '';
      remember.checked = Boolean(p && p.remembered);
      show(error, false);
      connectBtn.focus();
    } else if (forget) {
      const { url: u, nick: n } = forget.closest('li').querySelector('.recent-server').dataset;
      try {
        await app.bridge.forgetProfile({ url: u, nick: n });
        store.forget(u, n);
      } catch (err) {
        fail(err.message);
      }
      await refreshProfiles();
      (recentList.querySelector('.recent-server') || url).focus();
    }
  });

  async function refreshProfiles() {
    try {
      const info = await app.bridge.appInfo();
      profiles = (info && info.profiles) || [];
      setText($('app-version'), info && info.version ? `Parlor ${info.version}` : '');
    } catch (err) {
      fail(err.message);
      return null;
    }
    renderRecent(recentList, recentSection, profiles);
    if (!nick.value && profiles[0]) {
      url.value = profiles[0].url;
      nick.value = profiles[0].nick;
      remember.checked = Boolean(profiles[0].remembered);
    }
    return profiles;
  }

  // --- Hosting --------------------------------------------------------------------------------------------------

  function openDialog() {
    const name = nick.value.trim();
    const problem = nickProblem(name);
    if (problem) {
      fail(name ? problem : 'Enter your nickname first: you join the room you host under that name.', nick);
      return;
    }
    show(error, false);
    setText($('host-dialog-nick'), name);
    show(hostError, false);
    hostLocal.disabled = false;
    hostLan.disabled = false;
    openModal(dialog);
    hostLocal.focus();
  }

  const closeDialog = () => closeModal(dialog);

  async function startHosting(lan) {
    hostLocal.disabled = true;
    hostLan.disabled = true;
    show(hostError, false);
    let info = null;
    try {
      info = await app.bridge.hostStart({ lan });
    } catch (err) {
      if (err.code === 'already_hosting') info = await app.bridge.hostStatus().catch(() => null);
      if (!info) {
        setText(hostError, sentence(err.message));
        show(hostError, true);
        hostLocal.disabled = false;
        hostLan.disabled = false;
        (lan ? hostLan : hostLocal).focus();
        return;
      }
    }
    closeDialog();
    setHost(info);
    busy(true);
    await app.connect({ url: info.local_url, nick: nick.value.trim(), password: '', accountPassword: '', remember: false }, 'form');
    app.render();
  }

  hostBtn.addEventListener('click', openDialog);
  hostLocal.addEventListener('click', () => startHosting(false));
  hostLan.addEventListener('click', () => startHosting(true));
  hostCancel.addEventListener('click', closeDialog);
  dialog.addEventListener('close', () => {
    if (app.screen === 'connect' && !connecting()) hostBtn.focus();
  });
  // Escape closes the dialog natively (`cancel`); the fallback without <dialog> support needs a hand.
  dialog.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && typeof dialog.showModal !== 'function') closeDialog();
  });

  function setHost(info) {
    app.host = info || null;
    renderHostPanel(panel, app.host);
    setText(panel.status, '');
  }

  /** Copies `node`'s text; without clipboard access, selects it so Ctrl+C does. */
  async function copy(node, what) {
    try {
      await navigator.clipboard.writeText(node.textContent);
      setText(panel.status, `${what} copied`);
    } catch {
      const range = document.createRange();
      range.selectNodeContents(node);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      setText(panel.status, 'Selected: press Ctrl+C to copy');
    }
    setTimeout(() => setText(panel.status, ''), 4000);
  }

  panel.copy.addEventListener('click', () => {
    const first = panel.urls.querySelector('.host-url');
    if (first) copy(first, 'Link');
  });
  panel.codeCopy.addEventListener('click', () => {
    if (panel.code.textContent) copy(panel.code, 'Code');
  });

  panel.stop.addEventListener('click', async () => {
    const host = app.host;
    try {
      await app.bridge.hostStop();
    } catch (err) {
      setText(panel.status, sentence(err.message));
      return;
    }
    setHost(null);
    const s = app.state.session;
    if (host && s && store.serverKey(s.url, '') === store.serverKey(host.local_url, '')) {
      await app.disconnect('You stopped hosting, so that room is closed. Host again or connect to another server.', true);
      busy(false);
    }
  });

  return {
    refreshProfiles,
    setHost,
    busy,
    focusFirst() {
      (nick.value ? connectBtn : nick).focus();
    },
    /** Shows why connecting failed and unlocks the form; `info` for a note that is not a failure. */
    failed(message, info = false) {
      busy(false);
      fail(message, null, info);
    },
    prefill(session) {
      busy(false);
      if (!session) return;
      url.value = session.url || url.value;
      nick.value = session.nick || nick.value;
    },
    /** While a connection from the form is under way: say what is happening (e.g. retries). */
    renderProgress(now) {
      if (!connecting()) {
        if (connectBtn.disabled && !app.state.session) busy(false);
        return;
      }
      const { conn } = app.state;
      if (conn.state === 'reconnecting') {
        const secs = Math.max(0, Math.ceil((conn.retryAt - now) / 1000));
        const why = conn.reason ? ` (${conn.reason})` : '';
        setText(error, `Cannot reach the server yet${why}. Trying again ${secs ? `in ${secs} s` : 'now'} — check the address, or press Cancel.`);
        error.classList.add('info');
        show(error, true);
      }
    },
  };
}
