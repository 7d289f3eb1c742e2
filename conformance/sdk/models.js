// Shape checks against the SDK's own type declarations.
//
// purecloud-platform-client-v2 ships index.d.ts, generated from the platform's
// swagger: `declare namespace Models { export interface X { "f"?: T; ... } }`.
// check() compares a JSON body with one of those interfaces: every declared
// required field present, every field's JSON type matching its declaration,
// and no field the SDK does not declare.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const dts = path.join(path.dirname(require.resolve('purecloud-platform-client-v2/package.json')), 'index.d.ts');

// parseModels returns Map(name → Map(field → {type, required})).
function parseModels(text) {
	const start = text.indexOf('declare namespace Models {');
	if (start < 0) throw new Error(`${dts}: no "declare namespace Models"`);
	const models = new Map();
	const iface = /^\texport interface (\w+) \{\s*\n([\s\S]*?)^\t\}/gm;
	iface.lastIndex = start;
	for (let m; (m = iface.exec(text));) {
		const fields = new Map();
		for (const line of m[2].split('\n')) {
			const f = /^\t\t"([^"]+)"(\?)?: (.+);$/.exec(line);
			if (f) fields.set(f[1], { type: f[3], required: !f[2] });
		}
		models.set(m[1], fields);
	}
	return models;
}

export const models = parseModels(readFileSync(dts, 'utf8'));

// inner classifies a declared type: Array<T>, { [key: string]: T; }, Models.X
// or a primitive.
function inner(type) {
	let m = /^Array<(.+)>$/.exec(type);
	if (m) return { kind: 'array', of: m[1] };
	m = /^\{ \[key: string\]: (.+); \}$/.exec(type);
	if (m) return { kind: 'map', of: m[1] };
	m = /^Models\.(\w+)$/.exec(type);
	if (m) return { kind: 'model', of: m[1] };
	return { kind: type };
}

const jsonType = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

// deviations lists how value differs from type ("Models.X", "string",
// "Array<...>", ...): one entry per difference, as
// {key: "Model.field: missing|undeclared|type", at: JSON path, what}. Keys
// name the model, not the path, so a list of known deviations stays short.
export function deviations(value, type, at = '$', owner = type, out = []) {
	const t = inner(type);
	const got = jsonType(value);
	const want = { string: 'string', number: 'number', boolean: 'boolean', object: 'object', array: 'array', map: 'object', model: 'object' }[t.kind];
	if (!want) throw new Error(`${at}: unsupported declared type ${type}`);
	if (got !== want) {
		out.push({ key: `${owner}: type`, at, what: `${got} ${JSON.stringify(value)?.slice(0, 60)}, SDK declares ${type}` });
		return out;
	}
	if (t.kind === 'array') value.forEach((v, i) => deviations(v, t.of, `${at}[${i}]`, owner, out));
	if (t.kind === 'map') for (const [k, v] of Object.entries(value)) deviations(v, t.of, `${at}.${k}`, owner, out);
	if (t.kind !== 'model') return out;
	const fields = models.get(t.of);
	if (!fields) throw new Error(`${at}: the SDK has no model ${t.of}`);
	for (const [name, f] of fields) {
		if (f.required && !(name in value)) out.push({ key: `${t.of}.${name}: missing`, at: `${at}.${name}`, what: `required by ${t.of}` });
	}
	for (const [name, v] of Object.entries(value)) {
		const f = fields.get(name);
		if (f) deviations(v, f.type, `${at}.${name}`, `${t.of}.${name}`, out);
		else out.push({ key: `${t.of}.${name}: undeclared`, at: `${at}.${name}`, what: `${t.of} has no field ${name}` });
	}
	return out;
}
