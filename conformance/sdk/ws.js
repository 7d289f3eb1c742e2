// A notification channel's WebSocket (the `ws` package), with frames kept in
// arrival order and awaited by predicate.

import WebSocket from 'ws';

export class Socket {
	// open connects to connectUri and resolves once the socket is open.
	static async open(connectUri, { timeout = 10_000 } = {}) {
		const s = new Socket(new WebSocket(connectUri));
		await new Promise((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`WebSocket ${connectUri}: not open after ${timeout} ms`)), timeout);
			s.ws.once('open', () => {
				clearTimeout(timer);
				resolve();
			});
			s.ws.once('error', (err) => {
				clearTimeout(timer);
				reject(err);
			});
		});
		return s;
	}

	constructor(ws) {
		this.ws = ws;
		this.frames = []; // parsed JSON frames, in order
		this.waiters = new Set();
		this.closed = null; // {code, reason} once closed
		// A frame that is not a JSON text frame is kept as {unexpected}, for
		// the tests' checks of every frame to report.
		ws.on('message', (data, isBinary) => {
			const text = data.toString(isBinary ? 'base64' : 'utf8');
			let frame;
			try {
				frame = isBinary ? { unexpected: `binary frame ${text}` } : JSON.parse(text);
			} catch {
				frame = { unexpected: `not JSON: ${text}` };
			}
			this.frames.push(frame);
			this.wake();
		});
		ws.on('close', (code, reason) => {
			this.closed = { code, reason: reason.toString('utf8') };
			this.wake();
		});
		ws.on('error', () => {}); // reported through close
	}

	wake() {
		for (const w of this.waiters) w();
	}

	// next resolves with the first frame at or after index `from` that
	// matches pred; it fails after timeout ms or when the socket closes.
	async next(what, pred, { from = 0, timeout = 10_000 } = {}) {
		let timer;
		let waiter;
		try {
			return await new Promise((resolve, reject) => {
				const check = () => {
					const i = this.frames.findIndex((f, j) => j >= from && pred(f));
					if (i >= 0) return resolve(this.frames[i]);
					if (this.closed) reject(new Error(`${what}: socket closed ${JSON.stringify(this.closed)}; frames ${JSON.stringify(this.frames)}`));
				};
				waiter = check;
				this.waiters.add(waiter);
				timer = setTimeout(() => reject(new Error(`${what}: no such frame within ${timeout} ms; frames ${JSON.stringify(this.frames)}`)), timeout);
				check();
			});
		} finally {
			clearTimeout(timer);
			this.waiters.delete(waiter);
		}
	}

	send(obj) {
		this.ws.send(JSON.stringify(obj));
	}

	// close closes the socket and resolves once it is closed.
	async close() {
		if (this.closed) return;
		const done = new Promise((resolve) => this.ws.once('close', resolve));
		this.ws.close(1000);
		const timer = setTimeout(() => this.ws.terminate(), 5_000);
		await done;
		clearTimeout(timer);
	}
}

// rejectedUpgrade resolves with the HTTP status of a WebSocket handshake the
// server refuses (it must not open).
export function rejectedUpgrade(uri, { timeout = 10_000 } = {}) {
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(uri);
		const timer = setTimeout(() => {
			ws.terminate();
			reject(new Error(`WebSocket ${uri}: no answer within ${timeout} ms`));
		}, timeout);
		ws.on('unexpected-response', (_req, res) => {
			clearTimeout(timer);
			res.resume();
			resolve(res.statusCode);
			ws.terminate();
		});
		ws.on('open', () => {
			clearTimeout(timer);
			ws.terminate();
			reject(new Error(`WebSocket ${uri}: opened, want a refused handshake`));
		});
		ws.on('error', () => {}); // terminate() after unexpected-response emits one
	});
}
