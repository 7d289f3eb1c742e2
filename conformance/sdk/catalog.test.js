// Sampled conformance of the emulator's generic catalogue layer with the
// official JavaScript SDK: GETs across every API group and create / get /
// update / delete round trips on collections, each called through the SDK's
// own method and each body checked against the SDK's typings (models.js).
// run.sh starts the emulator with emulator-catalog.yaml (a per-token limit
// high enough for the sample) and passes its address in
// FLOODGATE_CATALOG_URL.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { operations, optionDecls } from './catalog.js';
import { UUID, assertErrorBody, connect, login, platformClient, rejection } from './common.js';
import { deviations, models } from './models.js';

connect('FLOODGATE_CATALOG_URL');

// Every 4th GET of each API class (and at least one per class), in a fixed
// order; a collection round trip for the first of each class, then more up
// to roundTrips.
const sampleEvery = 4;
const minGets = 300;
const roundTrips = 60;
const minCollections = 30;
const concurrency = 8;

// Routes the hand-built resources serve (tested by the other files): their
// GETs of unknown ids answer 404 by design.
const handBuilt = [
	/^\/api\/v2\/tokens\/me$/,
	/^\/api\/v2\/conversations\/(calls\/|messages\/)?\{[^}]+\}$/,
	/^\/api\/v2\/recording\/jobs(\/|$)/,
	/^\/api\/v2\/analytics\/conversations\/details\/(jobs|query)/,
	/^\/api\/v2\/notifications\/channels(\/|$)/,
];

const ops = operations().filter((o) => !handBuilt.some((re) => re.test(o.path)));
const apis = new Map();
const api = (cls) => {
	if (!apis.has(cls)) apis.set(cls, new platformClient[cls]());
	return apis.get(cls);
};

// value returns an argument of a declared type: path and query strings
// name their parameter, bodies hold their model's required fields.
function value(type, name, depth = 0) {
	if (type === 'string') return `${name}-1`;
	if (type === 'number') return 1;
	if (type === 'boolean') return false;
	if (type === 'object' || type.startsWith('{ [key: string]')) return {};
	if (type.startsWith('Array<')) return depth === 0 ? [value(type.slice(6, -1), name, depth + 1)] : [];
	const m = /^Models\.(\w+)$/.exec(type);
	if (!m) return `${name}-1`;
	const fields = models.get(m[1]);
	const out = {};
	if (depth > 5) return out;
	for (const [f, d] of fields) {
		if (d.required) out[f] = value(d.type, f, depth + 1);
	}
	if (fields.get('name')?.type === 'string') out.name = `conformance ${name}`;
	return out;
}

// optionalBody returns the type of an optional body (opts.body), or null.
const optionsBody = /^\t\t"body"\?: (.+);$/m;
function optionalBody(op) {
	const opts = op.params.find((p) => p.name === 'opts');
	const decl = opts && optionDecls.get(opts.type);
	return decl ? (optionsBody.exec(decl)?.[1] ?? null) : null;
}

function args(op, overrides = {}) {
	const out = op.params.filter((p) => p.name !== 'opts').map((p) => (p.name in overrides ? overrides[p.name] : value(p.type, p.name)));
	const body = optionalBody(op);
	if (body) out.push({ body: value(body, 'body') });
	return out;
}

function call(op, overrides) {
	return api(op.cls)[op.name](...args(op, overrides));
}

function checkBody(op, res, what) {
	if (op.returns === 'void') return;
	const found = deviations(res.body, op.returns);
	assert.deepEqual(found.map((d) => `${d.key} at ${d.at}: ${d.what}`), [], `${what}: ${op.verb} ${op.path} (${op.cls}.${op.name}) body does not fit ${op.returns}`);
}

// groupBy is Map.groupBy, which node 20 lacks.
function groupBy(items, key) {
	const out = new Map();
	for (const x of items) {
		const k = key(x);
		if (!out.has(k)) out.set(k, []);
		out.get(k).push(x);
	}
	return out;
}

async function pool(items, fn) {
	const failures = [];
	let next = 0;
	await Promise.all(Array.from({ length: concurrency }, async () => {
		while (next < items.length) {
			const item = items[next++];
			try {
				await fn(item);
			} catch (err) {
				// The SDK rejects with {status, body} on an error answer.
				failures.push(err instanceof Error ? err.message : `${JSON.stringify(item).slice(0, 200)}: ${err?.status} ${JSON.stringify(err?.body)}`);
			}
		}
	}));
	assert.deepEqual(failures, [], `${failures.length} of ${items.length} failed`);
}

test('the emulator\'s catalogue has every operation of the installed SDK', () => {
	const require = createRequire(import.meta.url);
	const sdk = require('purecloud-platform-client-v2/package.json').version;
	const file = new URL('../../internal/emulator/catalog/catalog.json.gz', import.meta.url);
	const cat = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8'));
	assert.equal(cat.sdk, sdk, 'catalogue built from another SDK version: run go generate ./internal/emulator/catalog');
	const have = new Set(cat.ops.map((o) => `${o[2]} ${o[3]}`));
	const all = operations();
	const missing = all.filter((o) => !have.has(`${o.verb} ${o.path}`)).map((o) => `${o.cls}.${o.name}`);
	assert.deepEqual(missing, [], 'SDK operations missing from the catalogue');
	assert.equal(have.size, new Set(all.map((o) => `${o.verb} ${o.path}`)).size, 'catalogue operations the SDK does not have');
});

test('catalogued GETs across every API group answer bodies that fit the SDK typings', { timeout: 120_000 }, async (t) => {
	await login();
	const byClass = groupBy(ops.filter((o) => o.verb === 'GET'), (o) => o.cls);
	const sample = [];
	for (const list of byClass.values()) sample.push(...list.filter((_, i) => i % sampleEvery === 0));
	assert.ok(sample.length >= minGets, `sampled ${sample.length} GETs, want >= ${minGets}`);
	assert.equal(new Set(sample.map((o) => o.cls)).size, byClass.size, 'every API group with a GET is sampled');
	t.diagnostic(`${sample.length} GETs over ${byClass.size} API groups`);
	await pool(sample, async (op) => {
		const res = await call(op).catch((err) => assert.fail(`${op.verb} ${op.path} (${op.cls}.${op.name}): ${err?.status} ${JSON.stringify(err?.body)}`));
		// 204 where the SDK declares no return type (a download's redirect, say).
		assert.equal(res.status, op.returns === 'void' ? 204 : 200, `${op.path}`);
		assert.ok(res.headers['inin-ratelimit-allowed'], `${op.path}: no inin-ratelimit-* headers`);
		checkBody(op, res, 'GET');
	});
});

test('catalogued collections: create, get, list, update, delete, then 404', { timeout: 120_000 }, async (t) => {
	await login();
	const norm = (p) => p.replace(/\{[^}]+\}/g, '{}');
	const at = new Map(ops.map((o) => [`${o.verb} ${norm(o.path)}`, o]));
	const colls = [];
	for (const create of ops) {
		if (create.verb !== 'POST' || create.path.endsWith('}') || !create.returns.startsWith('Models.')) continue;
		const item = `${norm(create.path)}/{}`;
		const get = at.get(`GET ${item}`);
		const del = at.get(`DELETE ${item}`);
		const update = at.get(`PUT ${item}`) ?? at.get(`PATCH ${item}`);
		if (!get || !del || !update || get.returns !== create.returns || !models.get(create.returns.slice(7)).has('id')) continue;
		colls.push({ create, get, del, update, list: at.get(`GET ${norm(create.path)}`) });
	}
	const first = [...groupBy(colls, (c) => c.create.cls).values()].map((l) => l[0]);
	const sample = [...new Set([...first, ...colls])].slice(0, roundTrips);
	assert.ok(sample.length >= minCollections, `${sample.length} collections, want >= ${minCollections}`);
	t.diagnostic(`${sample.length} of ${colls.length} collections over ${new Set(sample.map((c) => c.create.cls)).size} API groups`);

	await pool(sample, async ({ create, get, del, update, list }) => {
		const what = `${create.path} (${create.cls}.${create.name})`;
		const made = await call(create);
		assert.equal(made.status, 200, what);
		checkBody(create, made, 'create');
		assert.match(made.body.id ?? '', UUID, `${what}: id`);
		// The item's id is the last path parameter of the GET, DELETE and update.
		const idParam = (op) => /\{(\w+)\}$/.exec(op.path)[1];

		const got = await call(get, { [idParam(get)]: made.body.id });
		checkBody(get, got, 'get');
		assert.deepEqual(got.body, made.body, `${what}: GET returns what was created`);

		if (list && list.returns.startsWith('Models.') && models.get(list.returns.slice(7)).has('entities')) {
			const page = await call(list);
			checkBody(list, page, 'list');
			if ('total' in page.body) assert.ok(page.body.total >= 1, `${what}: list total ${page.body.total}`);
			// Listings are oldest first: past seeded entities (users), the
			// created one is on the last page.
			let { entities } = page.body;
			if (page.body.pageCount > 1) {
				const last = await api(list.cls)[list.name](...args(list), { pageNumber: page.body.pageCount });
				checkBody(list, last, 'list');
				entities = last.body.entities;
			}
			assert.ok(entities.some((e) => e.id === made.body.id), `${what}: list has the created entity`);
		}

		const changed = await call(update, { [idParam(update)]: made.body.id });
		assert.equal(changed.status, 200, `${update.verb} ${what}`);
		checkBody(update, changed, 'update');
		if (typeof made.body.version === 'number' && update.returns !== 'void') {
			assert.equal(changed.body.version, made.body.version + 1, `${what}: version bumped`);
		}

		const gone = await call(del, { [idParam(del)]: made.body.id });
		assert.ok([200, 202, 204].includes(gone.status), `${what}: DELETE ${gone.status}`);
		const err = await rejection(call(get, { [idParam(get)]: made.body.id }));
		assert.equal(err.status, 404, `${what}: GET after DELETE`);
		assertErrorBody(err, 404, 'not.found');
	});
});

test('a body of the wrong type is 400 bad.request naming the field', { timeout: 30_000 }, async () => {
	await login();
	const routing = new platformClient.RoutingApi();
	const err = await rejection(routing.postRoutingQueues({ name: 42 }));
	assert.equal(err.status, 400);
	assertErrorBody(err, 400, 'bad.request');
	assert.deepEqual(err.body.details, [{ fieldName: 'name', errorCode: 'invalid.type' }]);
});

test('seeded users page through the SDK, and a create missing a required field is 400', { timeout: 30_000 }, async () => {
	await login();
	const users = new platformClient.UsersApi();
	const { body: first } = await users.getUsers({ pageSize: 10, pageNumber: 1 });
	const { body: second } = await users.getUsers({ pageSize: 10, pageNumber: 2 });
	for (const page of [first, second]) assert.deepEqual(deviations(page, 'Models.UserEntityListing'), []);
	assert.ok(first.total >= 25, `total ${first.total}`);
	assert.equal(second.pageNumber, 2);
	assert.equal(second.entities.length, 10);
	const ids = new Set([...first.entities, ...second.entities].map((u) => u.id));
	assert.equal(ids.size, 20, 'pages 1 and 2 hold distinct users');
	assert.match(second.nextUri, /pageNumber=3/);
	const routing = new platformClient.RoutingApi();
	const { body: queues } = await routing.getRoutingQueues({ pageSize: 100 });
	assert.ok(queues.entities.length >= 10 && queues.entities.every((q) => typeof q.name === 'string'), 'seeded queues have names');
	const err = await rejection(routing.postRoutingQueues({}));
	assertErrorBody(err, 400, 'bad.request');
	assert.deepEqual(err.body.details, [{ fieldName: 'name', errorCode: 'field.required' }]);
});
