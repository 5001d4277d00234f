// Proves that tests/interop/gcs_server.mjs speaks the real GCS JSON API: Google's official
// Node client (@google-cloud/storage) drives it over 127.0.0.1 with a bearer token (an
// OAuth2Client holding a fixed access token): list with pagination and prefixes, simple
// (multipart) and resumable uploads, metadata, ranged and whole downloads (the client
// checks the CRC32C/MD5 hashes), generation preconditions, delete, and 401 for a wrong
// token. libotap's own backend is tested against the same server in
// tests/store/test_store_gcs.c.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { Storage } from '@google-cloud/storage';
import { OAuth2Client } from 'google-auth-library';

const here = path.dirname(fileURLToPath(import.meta.url));
const TOKEN = 'ya29.interop-token-3c2b1a';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otap-gcs-client-'));

function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(here, 'gcs_server.mjs'), '--port', '0', '--dir', dir, '--token', TOKEN, '--lifetime', '240'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[\d.:]+)/.exec(out);
      if (m) resolve({ child, endpoint: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`gcs_server exited with ${code}`)));
  });
}

function client(endpoint, token) {
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: token, expiry_date: Date.now() + 3600 * 1000 });
  return new Storage({
    apiEndpoint: endpoint,
    projectId: 'otap-test',
    authClient: auth,
    useAuthWithCustomEndpoint: true,
    retryOptions: { autoRetry: false },
  });
}

function pattern(n, seed) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed) & 0xff;
  return b;
}

const { child, endpoint } = await startServer();
let failed = false;
try {
  const storage = client(endpoint, TOKEN);
  const bucket = storage.bucket('otap-interop');

  // Simple upload (multipart/related) and metadata.
  const small = pattern(10000, 1);
  await bucket.file('a/small.bin').save(small, { resumable: false, contentType: 'application/octet-stream' });
  const [meta] = await bucket.file('a/small.bin').getMetadata();
  assert.equal(Number(meta.size), small.length);
  assert.equal(meta.md5Hash, crypto.createHash('md5').update(small).digest('base64'));
  console.log('ok simple upload + metadata, generation', meta.generation);

  // Resumable upload in several 256 KiB chunks.
  const big = pattern((1 << 20) + 12345, 7);
  // @google-cloud/storage 7.22.0 does not pass useAuthWithCustomEndpoint to the upload it
  // starts inside save()/createWriteStream() (so that POST goes out without a token); the
  // session is therefore created with createResumableUpload() (which does pass it) and the
  // chunks go to its URI, which needs no token (the session URI is the credential, as on GCS).
  const [uri] = await bucket.file('a/b/big.bin').createResumableUpload();
  assert.match(uri, /upload_id=/);
  await bucket.file('a/b/big.bin').save(big, { resumable: true, uri, chunkSize: 256 * 1024 });
  const stats = await (await fetch(`${endpoint}/_test/stats`)).json();
  assert.ok(stats.byRoute['PUT /upload/storage/v1'] >= 5, JSON.stringify(stats)); // 308s, then the final chunk
  const [bigMeta] = await bucket.file('a/b/big.bin').getMetadata();
  assert.equal(Number(bigMeta.size), big.length);
  console.log('ok resumable upload', bigMeta.size);

  // Whole download (hash-validated by the client) and a range.
  const [whole] = await bucket.file('a/b/big.bin').download();
  assert.ok(whole.equals(big));
  const [part] = await bucket.file('a/b/big.bin').download({ start: 1000, end: 70999 });
  assert.ok(part.equals(big.subarray(1000, 71000)));
  console.log('ok downloads (whole, range)');

  // Listing: pagination over more objects than a page, prefixes with a delimiter.
  for (let i = 0; i < 7; i++) await bucket.file(`list/o${i}`).save(Buffer.from(`v${i}`), { resumable: false });
  const [files] = await bucket.getFiles({ prefix: 'list/', maxResults: 3, autoPaginate: true });
  // autoPaginate with maxResults stops at maxResults in v7; page through explicitly too.
  let names = [];
  let query = { prefix: 'list/', maxResults: 3, autoPaginate: false };
  for (let pages = 0; query; pages++) {
    const [page, next] = await bucket.getFiles(query);
    names = names.concat(page.map((f) => f.name));
    query = next;
    assert.ok(pages < 10);
  }
  assert.deepEqual(names, [0, 1, 2, 3, 4, 5, 6].map((i) => `list/o${i}`));
  assert.ok(files.length >= 3);
  const [, , apiResponse] = await bucket.getFiles({ prefix: 'a/', delimiter: '/', autoPaginate: false });
  assert.deepEqual(apiResponse.prefixes, ['a/b/']);
  assert.deepEqual(apiResponse.items.map((x) => x.name), ['a/small.bin']);
  console.log('ok list (pages of 3, delimiter)');

  // Generation preconditions.
  await assert.rejects(bucket.file('a/small.bin').save(Buffer.from('x'), { resumable: false, preconditionOpts: { ifGenerationMatch: 1 } }), (e) => e.code === 412);
  await bucket.file('a/small.bin').save(Buffer.from('new'), { resumable: false, preconditionOpts: { ifGenerationMatch: Number(meta.generation) } });
  console.log('ok ifGenerationMatch (412 on mismatch, success on match)');

  // Delete; a missing object is 404.
  await bucket.file('a/small.bin').delete();
  await assert.rejects(bucket.file('a/small.bin').getMetadata(), (e) => e.code === 404);
  const [exists] = await bucket.file('a/small.bin').exists();
  assert.equal(exists, false);
  console.log('ok delete');

  // A wrong token is refused.
  const bad = client(endpoint, 'ya29.wrong').bucket('otap-interop');
  await assert.rejects(bad.file('a/b/big.bin').getMetadata(), (e) => e.code === 401 && /Invalid Credentials/.test(e.message));
  console.log('ok 401 for a wrong bearer token');
} catch (e) {
  failed = true;
  console.error('FAIL', e);
} finally {
  child.kill('SIGTERM');
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
