// A WebSocket stand-in for the web bridge's tests: records what is sent, and lets a test open it, deliver server
// events and drop it.

export class FakeSocket {
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
  }
  send(text) {
    this.sent.push(JSON.parse(text));
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen();
  }
  deliver(event) {
    this.onmessage({ data: JSON.stringify(event) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose({ code, reason: '' });
  }
}
