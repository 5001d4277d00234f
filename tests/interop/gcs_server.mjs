// A small Google Cloud Storage JSON API server for tests (no GCS emulator exists on npm).
// It implements the subset libotap's GCS JSON backend uses, as the JSON API documents it:
//   GET    /storage/v1/b/B/o                     objects.list (prefix, delimiter, pageToken,
//                                                maxResults <= 1000, nextPageToken, prefixes)
//   GET    /storage/v1/b/B/o/NAME                objects.get metadata (alt=media: the data)
//   GET    /download/storage/v1/b/B/o/NAME?alt=media  media with Range (200/206/416)
//   DELETE /storage/v1/b/B/o/NAME                objects.delete (204 / 404)
//   POST   /upload/storage/v1/b/B/o?uploadType=media|multipart|resumable
//   PUT    session URI                           resumable chunks (Content-Range, 308 + Range)
//   DELETE session URI                           cancel (499)
// Preconditions ifGenerationMatch / ifGenerationNotMatch / generation (412 / 404), JSON error
// bodies {"error":{"code","message","errors":[{"reason"}]}}, x-guploader-uploadid and
// x-goog-generation / x-goog-hash headers, and `Authorization: Bearer TOKEN` (401 otherwise).
// Object data lives in files under --dir. Test hooks (no auth): POST /_test/fault?status=S&
// count=N (the next N requests answer S with a JSON error), POST /_test/short308?count=N (the
// next N resumable chunks persist only half their bytes), POST /_test/stucktoken?count=N (the
// next N listing pages repeat the page token they were asked for), POST
// /_test/foreignlocation?count=N (session URIs on another host), GET /_test/stats.
//
// Usage: node gcs_server.mjs --port P --dir D [--token T] [--lifetime SECONDS]
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const port = Number(args.port || 0);
const dir = args.dir;
const token = args.token || null;
const lifetime = Number(args.lifetime || 600);
if (!dir) {
  console.error('usage: gcs_server.mjs --port P --dir D [--token T] [--lifetime S]');
  process.exit(2);
}
fs.mkdirSync(dir, { recursive: true });

const MAX_BODY = 256 << 20;
const objects = new Map(); // "bucket\0name" -> {bucket, name, generation, size, updated, file, md5, crc32c}
const sessions = new Map(); // id -> {bucket, name, file, persisted, cancelled}
let nextGeneration = 1700000000000000;
let requestCounter = 0;
const stats = { requests: 0, byRoute: {} };
let fault = { status: 0, count: 0 };
let short308 = 0;
let stuckToken = 0;
let foreignLocation = 0;

// CRC32C (Castagnoli), as GCS reports it: base64 of the big-endian value.
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32c(buf) {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return out.toString('base64');
}

function sendJson(res, status, obj, headers = {}) {
  const body = Buffer.from(JSON.stringify(obj));
  res.writeHead(status, { 'Content-Type': 'application/json; charset=UTF-8', 'Content-Length': body.length, ...headers });
  res.end(body);
}

function sendError(res, status, reason, message) {
  sendJson(res, status, {
    error: { code: status, message, errors: [{ domain: 'global', reason, message }] },
  });
}

function metadata(o, host) {
  const enc = encodeURIComponent(o.name);
  return {
    kind: 'storage#object',
    id: `${o.bucket}/${o.name}/${o.generation}`,
    selfLink: `http://${host}/storage/v1/b/${o.bucket}/o/${enc}`,
    mediaLink: `http://${host}/download/storage/v1/b/${o.bucket}/o/${enc}?generation=${o.generation}&alt=media`,
    name: o.name,
    bucket: o.bucket,
    generation: String(o.generation),
    metageneration: '1',
    contentType: o.contentType || 'application/octet-stream',
    storageClass: 'STANDARD',
    size: String(o.size),
    md5Hash: o.md5,
    crc32c: o.crc32c,
    etag: o.etag,
    timeCreated: o.updated,
    updated: o.updated,
  };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let n = 0;
    req.on('data', (c) => {
      n += c.length;
      if (n > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function objectKey(bucket, name) {
  return `${bucket}\0${name}`;
}

// Checks generation preconditions; returns true when the request may proceed.
function preconditions(res, q, current) {
  const gen = current ? current.generation : 0;
  const m = q.get('ifGenerationMatch');
  if (m !== null && String(gen) !== m) {
    sendError(res, 412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.');
    return false;
  }
  const nm = q.get('ifGenerationNotMatch');
  if (nm !== null && String(gen) === nm) {
    res.writeHead(304);
    res.end();
    return false;
  }
  return true;
}

function storeObject(bucket, name, data, contentType) {
  const generation = nextGeneration++;
  const file = path.join(dir, `${crypto.createHash('sha256').update(objectKey(bucket, name)).digest('hex')}-${generation}`);
  fs.writeFileSync(file, data);
  const old = objects.get(objectKey(bucket, name));
  if (old) fs.rmSync(old.file, { force: true });
  const o = {
    bucket,
    name,
    generation,
    size: data.length,
    updated: new Date().toISOString(),
    file,
    contentType,
    md5: crypto.createHash('md5').update(data).digest('base64'),
    crc32c: crc32c(data),
    etag: crypto.createHash('md5').update(`${name}${generation}`).digest('base64'),
  };
  objects.set(objectKey(bucket, name), o);
  return o;
}

function validName(name) {
  return typeof name === 'string' && name.length > 0 && Buffer.byteLength(name) <= 1024 && !/[\r\n]/.test(name);
}

function list(res, bucket, q, host) {
  const prefix = q.get('prefix') || '';
  const delimiter = q.get('delimiter') || '';
  let max = Number(q.get('maxResults') || 1000);
  if (!Number.isInteger(max) || max <= 0) return sendError(res, 400, 'invalid', 'Invalid maxResults');
  if (max > 1000) max = 1000;
  let after = '';
  if (q.get('pageToken')) {
    after = Buffer.from(q.get('pageToken'), 'base64').toString('utf8');
  }
  const names = [...objects.values()].filter((o) => o.bucket === bucket && o.name.startsWith(prefix)).map((o) => o.name);
  names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const items = [];
  const prefixes = [];
  let units = 0;
  let last = null;
  let more = false;
  for (const name of names) {
    if (after && Buffer.compare(Buffer.from(name), Buffer.from(after)) <= 0) continue;
    let unitKey = name;
    let isPrefix = false;
    if (delimiter) {
      const i = name.indexOf(delimiter, prefix.length);
      if (i >= 0) {
        unitKey = name.slice(0, i + delimiter.length);
        isPrefix = true;
      }
    }
    if (isPrefix && prefixes.length && prefixes[prefixes.length - 1] === unitKey) continue;
    if (isPrefix && after.startsWith(unitKey)) continue; // that prefix was on an earlier page
    if (units === max) {
      more = true;
      break;
    }
    units++;
    if (isPrefix) {
      prefixes.push(unitKey);
      last = `${unitKey}\u{10FFFF}`; // resume after everything below the prefix
    } else {
      items.push(metadata(objects.get(objectKey(bucket, name)), host));
      last = name;
    }
  }
  const out = { kind: 'storage#objects' };
  if (more) out.nextPageToken = Buffer.from(last, 'utf8').toString('base64');
  if (more && stuckToken > 0 && q.get('pageToken')) {
    stuckToken--;
    out.nextPageToken = q.get('pageToken'); // a broken service: the token does not move
  }
  if (prefixes.length) out.prefixes = prefixes;
  if (items.length) out.items = items;
  sendJson(res, 200, out);
}

function media(req, res, o, q) {
  const headers = {
    'Content-Type': o.contentType || 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    ETag: o.etag,
    'x-goog-generation': String(o.generation),
    'x-goog-metageneration': '1',
    'x-goog-stored-content-length': String(o.size),
  };
  const range = req.headers.range;
  if (range) {
    const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
    let start;
    let end;
    if (m && m[1] !== '') {
      start = Number(m[1]);
      end = m[2] !== '' ? Math.min(Number(m[2]), o.size - 1) : o.size - 1;
      if (m[2] !== '' && Number(m[2]) < start) start = NaN;
    } else if (m && m[2] !== '') {
      const n = Number(m[2]);
      start = Math.max(0, o.size - n);
      end = o.size - 1;
      if (n === 0) start = NaN;
    }
    if (m && !Number.isNaN(start) && start < o.size) {
      const len = end - start + 1;
      const buf = Buffer.alloc(len);
      const fd = fs.openSync(o.file, 'r');
      fs.readSync(fd, buf, 0, len, start);
      fs.closeSync(fd);
      res.writeHead(206, { ...headers, 'Content-Length': len, 'Content-Range': `bytes ${start}-${end}/${o.size}` });
      res.end(buf);
      return;
    }
    if (m) {
      const body = Buffer.from(
        JSON.stringify({ error: { code: 416, message: 'Request range not satisfiable', errors: [{ domain: 'global', reason: 'requestedRangeNotSatisfiable', message: 'Request range not satisfiable' }] } }),
      );
      res.writeHead(416, { 'Content-Type': 'application/json; charset=UTF-8', 'Content-Length': body.length, 'Content-Range': `bytes */${o.size}` });
      res.end(body);
      return;
    }
  }
  const data = fs.readFileSync(o.file);
  res.writeHead(200, { ...headers, 'Content-Length': data.length, 'x-goog-hash': `crc32c=${o.crc32c},md5=${o.md5}` });
  res.end(data);
  void q;
}

// multipart/related: JSON metadata part, then the media part.
function parseMultipart(body, contentType) {
  const m = /boundary="?([^";]+)"?/.exec(contentType || '');
  if (!m) return null;
  const delim = Buffer.from(`--${m[1]}`);
  const parts = [];
  let pos = body.indexOf(delim);
  while (pos >= 0) {
    pos += delim.length;
    if (body.slice(pos, pos + 2).toString() === '--') break;
    const hdrEnd = body.indexOf('\r\n\r\n', pos);
    if (hdrEnd < 0) return null;
    const next = body.indexOf(delim, hdrEnd + 4);
    if (next < 0) return null;
    const headers = body.slice(pos, hdrEnd).toString();
    const ct = /content-type:\s*([^\r\n]+)/i.exec(headers);
    parts.push({ contentType: ct ? ct[1].trim() : '', data: body.slice(hdrEnd + 4, next - 2) });
    pos = next;
  }
  return parts.length === 2 ? parts : null;
}

async function upload(req, res, bucket, q, host) {
  const type = q.get('uploadType');
  const body = await readBody(req);
  if (type === 'media') {
    const name = q.get('name');
    if (!validName(name)) return sendError(res, 400, 'required', 'Required parameter: name');
    if (!preconditions(res, q, objects.get(objectKey(bucket, name)))) return;
    const o = storeObject(bucket, name, body, req.headers['content-type']);
    return sendJson(res, 200, metadata(o, host), { ETag: o.etag, 'x-goog-generation': String(o.generation) });
  }
  if (type === 'multipart') {
    const parts = parseMultipart(body, req.headers['content-type']);
    if (!parts) return sendError(res, 400, 'invalid', 'Malformed multipart body');
    let meta;
    try {
      meta = JSON.parse(parts[0].data.toString('utf8'));
    } catch {
      return sendError(res, 400, 'parseError', 'Parse Error');
    }
    const name = q.get('name') || meta.name;
    if (!validName(name)) return sendError(res, 400, 'required', 'Required parameter: name');
    if (!preconditions(res, q, objects.get(objectKey(bucket, name)))) return;
    const o = storeObject(bucket, name, parts[1].data, meta.contentType || parts[1].contentType);
    return sendJson(res, 200, metadata(o, host));
  }
  if (type === 'resumable') {
    let meta = {};
    if (body.length) {
      try {
        meta = JSON.parse(body.toString('utf8'));
      } catch {
        return sendError(res, 400, 'parseError', 'Parse Error');
      }
    }
    const name = q.get('name') || meta.name;
    if (!validName(name)) return sendError(res, 400, 'required', 'Required parameter: name');
    if (!preconditions(res, q, objects.get(objectKey(bucket, name)))) return;
    const id = crypto.randomBytes(18).toString('base64url');
    const file = path.join(dir, `session-${id}`);
    fs.writeFileSync(file, Buffer.alloc(0));
    sessions.set(id, {
      bucket,
      name,
      file,
      persisted: 0,
      cancelled: false,
      contentType: meta.contentType || req.headers['x-upload-content-type'],
      ifGenerationMatch: q.get('ifGenerationMatch'),
    });
    let locHost = host;
    if (foreignLocation > 0) {
      foreignLocation--;
      locHost = 'upload.example.invalid'; // a session on another host: clients must refuse it
    }
    const loc = `http://${locHost}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`;
    res.writeHead(200, { Location: loc, 'Content-Length': 0 });
    return res.end();
  }
  return sendError(res, 400, 'invalid', `Invalid uploadType: ${type}`);
}

function incomplete(res, s) {
  const h = { 'Content-Length': 0 };
  if (s.persisted > 0) h.Range = `bytes=0-${s.persisted - 1}`;
  res.writeHead(308, h);
  res.end();
}

async function sessionPut(req, res, s, host) {
  const body = await readBody(req);
  if (s.cancelled) return sendError(res, 499, 'clientClosedRequest', 'Upload cancelled');
  if (s.done) return sendJson(res, 200, metadata(objects.get(objectKey(s.bucket, s.name)), host));
  const cr = req.headers['content-range'] || '';
  let total = null;
  let m = /^bytes \*\/(\d+|\*)$/.exec(cr);
  let start = null;
  let end = null;
  if (m) {
    total = m[1] === '*' ? null : Number(m[1]);
    if (body.length) return sendError(res, 400, 'invalid', 'Content-Range without a range but with a body');
  } else {
    m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(cr);
    if (!m) return sendError(res, 400, 'invalid', `Bad Content-Range: ${cr}`);
    start = Number(m[1]);
    end = Number(m[2]);
    total = m[3] === '*' ? null : Number(m[3]);
    if (end < start || body.length !== end - start + 1) return sendError(res, 400, 'invalid', 'Content-Range does not match the body length');
    if (total !== null && end + 1 > total) return sendError(res, 400, 'invalid', 'Content-Range beyond the total');
    if (start > s.persisted) return sendError(res, 400, 'invalid', `Chunk starts at ${start}, session has ${s.persisted} bytes`);
    // Bytes the session already has are ignored.
    let fresh = body.slice(s.persisted - start);
    if (short308 > 0 && total === null && fresh.length > 1) {
      short308--;
      fresh = fresh.slice(0, Math.floor(fresh.length / 2));
    }
    fs.appendFileSync(s.file, fresh);
    s.persisted += fresh.length;
  }
  if (total !== null && s.persisted === total) {
    const data = fs.readFileSync(s.file);
    fs.rmSync(s.file, { force: true });
    const cur = objects.get(objectKey(s.bucket, s.name));
    if (s.ifGenerationMatch !== null && String(cur ? cur.generation : 0) !== s.ifGenerationMatch) {
      return sendError(res, 412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.');
    }
    const o = storeObject(s.bucket, s.name, data, s.contentType);
    s.done = true;
    return sendJson(res, 200, metadata(o, host));
  }
  if (total !== null && s.persisted > total) return sendError(res, 400, 'invalid', 'More bytes than the total');
  return incomplete(res, s);
}

async function handle(req, res) {
  const url = new URL(req.url, `http://${req.headers.host || '127.0.0.1'}`);
  const host = req.headers.host || `127.0.0.1:${port}`;
  const q = url.searchParams;
  const p = url.pathname;
  res.setHeader('x-guploader-uploadid', `gcs-test-${++requestCounter}`);
  if (p.startsWith('/_test/')) {
    if (p === '/_test/fault') fault = { status: Number(q.get('status')), count: Number(q.get('count') || 1) };
    else if (p === '/_test/short308') short308 = Number(q.get('count') || 1);
    else if (p === '/_test/stucktoken') stuckToken = Number(q.get('count') || 1);
    else if (p === '/_test/foreignlocation') foreignLocation = Number(q.get('count') || 1);
    else if (p === '/_test/stats') return sendJson(res, 200, stats);
    else return sendError(res, 404, 'notFound', 'Not Found');
    res.writeHead(204);
    return res.end();
  }
  stats.requests++;
  const route = `${req.method} ${p.split('/').slice(0, 4).join('/')}`;
  stats.byRoute[route] = (stats.byRoute[route] || 0) + 1;
  // As on GCS, a resumable session URI is itself the credential: chunk PUTs and the cancel
  // DELETE need no Authorization header (the session was created by an authorized POST).
  const sessionRequest = p.startsWith('/upload/') && q.get('upload_id') !== null && req.method !== 'POST';
  if (token !== null && !sessionRequest && req.headers.authorization !== `Bearer ${token}`) {
    await readBody(req).catch(() => {});
    return sendError(res, 401, 'authError', 'Invalid Credentials');
  }
  if (fault.count > 0) {
    fault.count--;
    await readBody(req).catch(() => {});
    const reasons = { 429: 'rateLimitExceeded', 500: 'backendError', 503: 'backendError' };
    return sendError(res, fault.status, reasons[fault.status] || 'injected', `Injected failure ${fault.status}`);
  }
  let m;
  if ((m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(p))) {
    const bucket = decodeURIComponent(m[1]);
    const id = q.get('upload_id');
    if (id !== null) {
      const s = sessions.get(id);
      if (!s || s.bucket !== bucket) return sendError(res, 404, 'notFound', 'No such upload session');
      if (req.method === 'PUT' || req.method === 'POST') return sessionPut(req, res, s, host);
      if (req.method === 'DELETE') {
        s.cancelled = true;
        fs.rmSync(s.file, { force: true });
        return sendError(res, 499, 'clientClosedRequest', 'Upload cancelled');
      }
      return sendError(res, 405, 'methodNotAllowed', 'Method not allowed');
    }
    if (req.method === 'POST') return upload(req, res, bucket, q, host);
    return sendError(res, 405, 'methodNotAllowed', 'Method not allowed');
  }
  if ((m = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(p)) && req.method === 'GET') {
    return list(res, decodeURIComponent(m[1]), q, host);
  }
  if ((m = /^\/storage\/v1\/b\/([^/]+)$/.exec(p)) && req.method === 'GET') {
    return sendJson(res, 200, { kind: 'storage#bucket', id: m[1], name: decodeURIComponent(m[1]) });
  }
  if ((m = /^\/(download\/)?storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(p))) {
    const bucket = decodeURIComponent(m[2]);
    const name = decodeURIComponent(m[3]);
    const o = objects.get(objectKey(bucket, name));
    if (q.get('generation') !== null && (!o || String(o.generation) !== q.get('generation'))) {
      return sendError(res, 404, 'notFound', `No such object: ${bucket}/${name}`);
    }
    if (req.method === 'DELETE') {
      if (!o) return sendError(res, 404, 'notFound', `No such object: ${bucket}/${name}`);
      if (!preconditions(res, q, o)) return;
      objects.delete(objectKey(bucket, name));
      fs.rmSync(o.file, { force: true });
      res.writeHead(204);
      return res.end();
    }
    if (req.method !== 'GET') return sendError(res, 405, 'methodNotAllowed', 'Method not allowed');
    if (!o) return sendError(res, 404, 'notFound', `No such object: ${bucket}/${name}`);
    if (!preconditions(res, q, o)) return;
    if (q.get('alt') === 'media') return media(req, res, o, q);
    if (m[1]) return sendError(res, 400, 'invalid', 'Downloads need alt=media');
    return sendJson(res, 200, metadata(o, host), { ETag: o.etag });
  }
  return sendError(res, 404, 'notFound', 'Not Found');
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    if (!res.headersSent) sendError(res, 500, 'backendError', String(e && e.message));
    else res.destroy();
  });
});
server.keepAliveTimeout = 30000;
server.listen(port, '127.0.0.1', () => {
  console.log(`gcs_server listening on http://127.0.0.1:${server.address().port}`);
});
// Bounded lifetime: never outlive a crashed test by long.
setTimeout(() => process.exit(0), lifetime * 1000);
process.on('SIGTERM', () => process.exit(0));
