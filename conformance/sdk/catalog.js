// The SDK's operations as the SDK itself declares them, for the sampled
// catalogue conformance test: each API class's methods with their HTTP
// method and path (from src/purecloud-platform-client-v2/api/*.js) and their
// parameters and return type (from index.d.ts). Read independently of the
// emulator's generator so that the test does not share its parser.

import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.dirname(require.resolve('purecloud-platform-client-v2/package.json'));
const dts = readFileSync(path.join(root, 'index.d.ts'), 'utf8');

// calls maps "Class.method" → {verb, path}.
function parseCalls() {
	const calls = new Map();
	const dir = path.join(root, 'src/purecloud-platform-client-v2/api');
	for (const file of readdirSync(dir).filter((f) => f.endsWith('Api.js'))) {
		const src = readFileSync(path.join(dir, file), 'utf8');
		const cls = file.replace(/\.js$/, '');
		const re = /\n\t(\w+)\([^)]*\) \{ \n[\s\S]*?this\.apiClient\.callApi\(\s*'([^']+)',\s*'(\w+)'/g;
		for (let m; (m = re.exec(src));) calls.set(`${cls}.${m[1]}`, { path: m[2], verb: m[3] });
	}
	return calls;
}

// signatures maps "Class.method" → {params: [{name, type, optional}], returns}.
function parseSignatures() {
	const sigs = new Map();
	const classRe = /^declare class (\w+Api) \{\n([\s\S]*?)^\}/gm;
	for (let c; (c = classRe.exec(dts));) {
		const sigRe = /^ {2}\t(\w+)\((.*)\): Promise<(.+)>;$/gm;
		for (let m; (m = sigRe.exec(c[2]));) {
			const params = [];
			for (const p of splitTop(m[2])) {
				const [name, type] = [p.slice(0, p.indexOf(': ')), p.slice(p.indexOf(': ') + 2)];
				params.push({ name: name.replace(/\?$/, ''), type, optional: name.endsWith('?') });
			}
			sigs.set(`${c[1]}.${m[1]}`, { params, returns: m[3] });
		}
	}
	return sigs;
}

function splitTop(s) {
	const out = [];
	let depth = 0;
	let start = 0;
	for (let i = 0; i < s.length; i++) {
		if ('<{('.includes(s[i])) depth++;
		else if ('>})'.includes(s[i])) depth--;
		else if (s[i] === ',' && depth === 0) {
			out.push(s.slice(start, i).trim());
			start = i + 1;
		}
	}
	if (s.slice(start).trim()) out.push(s.slice(start).trim());
	return out;
}

// operations lists every SDK method as {cls, name, verb, path, params, returns}.
export function operations() {
	const calls = parseCalls();
	const out = [];
	for (const [key, sig] of parseSignatures()) {
		const call = calls.get(key);
		if (!call) continue;
		const [cls, name] = key.split('.');
		out.push({ cls, name, ...call, ...sig });
	}
	out.sort((a, b) => (a.cls === b.cls ? (a.name < b.name ? -1 : 1) : a.cls < b.cls ? -1 : 1));
	return out;
}

// optionDecls maps "XApi.methodOptions" → the text of that interface.
export const optionDecls = (() => {
	const out = new Map();
	const nsRe = /^declare namespace (\w+Api) \{ *\n([\s\S]*?)^\}/gm;
	for (let n; (n = nsRe.exec(dts));) {
		const ifRe = /^\texport interface (\w+) \{ *\n([\s\S]*?)^\t\}/gm;
		for (let m; (m = ifRe.exec(n[2]));) out.set(`${n[1]}.${m[1]}`, m[2]);
	}
	return out;
})();
