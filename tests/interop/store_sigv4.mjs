// Compares every SigV4 Authorization header our signer produces (tests/store/store_sigv4_tool)
// byte for byte with the AWS SDK's own signer (@smithy/signature-v4) over a matrix of requests:
// methods, keys and query strings that need encoding, ranges, session tokens, unsigned and
// hashed payloads, regions and dates. s3rver checks no signature, so this is the check.
//
// Usage: node store_sigv4.mjs PATH/TO/store_sigv4_tool
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "@aws-crypto/sha256-js";

const tool = process.argv[2];
if (!tool) {
  console.error("usage: node store_sigv4.mjs store_sigv4_tool");
  process.exit(2);
}

const methods = ["GET", "HEAD", "PUT", "POST", "DELETE"];
const paths = [
  "/bucket/key",
  "/bucket/t/_part_id=1/part-0001.parquet",
  "/bucket/a b+c=d&e?f#g",
  "/bucket/unicodé/日本語/ключ",
  "/bucket/special !'()*~-._@$,;:[]{}|^`\\\"<>%",
  "/key-only-virtual-hosted",
  "/bucket",
];
const queries = [
  {},
  { "list-type": "2", prefix: "t/_part_id=", delimiter: "/" },
  { "list-type": "2", prefix: "a b/ü", "continuation-token": "1Mu+K1/dta2=", "max-keys": "1000" },
  { uploads: "" },
  { partNumber: "7", uploadId: "VXBsb2FkIElE+/=~" },
  { restype: "x", Comp: "Upper", "a&b": "c=d" },
];
const creds = [
  { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
  {
    accessKeyId: "ASIAEXAMPLESESSION",
    secretAccessKey: "secret+with/odd=chars",
    sessionToken: "FwoGZXIvYXdzEJr//////////wEaDH+session/token==",
  },
];
const payloads = [
  "-",
  "UNSIGNED-PAYLOAD",
  createHash("sha256").update("<CompleteMultipartUpload></CompleteMultipartUpload>").digest("hex"),
];
const extraHeaders = [{}, { range: "bytes=0-1048575" }, { range: "bytes=123-456", "content-type": "application/xml" }];
const regions = ["us-east-1", "eu-central-1", "auto"];
const dates = [new Date(Date.UTC(2013, 4, 24, 0, 0, 0)), new Date(Date.UTC(2026, 10, 22, 23, 59, 59))];
const hosts = ["examplebucket.s3.amazonaws.com", "127.0.0.1:9000", "storage.googleapis.com"];

function amzDate(d) {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

const emptyHash = createHash("sha256").update("").digest("hex");
let n = 0;
let failures = 0;
let i = 0;
for (const method of methods) {
  for (const path of paths) {
    for (const query of queries) {
      // A deterministic walk over the remaining dimensions keeps the run short (~200 cases)
      // while covering every value of each.
      const cred = creds[i % creds.length];
      const payload = payloads[(i >> 1) % payloads.length];
      const extra = extraHeaders[i % extraHeaders.length];
      const region = regions[(i >> 2) % regions.length];
      const date = dates[(i >> 3) % dates.length];
      const host = hosts[i % hosts.length];
      i++;
      const hash = payload === "-" ? emptyHash : payload;
      const args = [method, host, path, amzDate(date), region, cred.accessKeyId, cred.secretAccessKey,
        cred.sessionToken ?? "-", hash];
      for (const [k, v] of Object.entries(query)) args.push(`q:${k}=${v}`);
      for (const [k, v] of Object.entries(extra)) args.push(`h:${k}=${v}`);
      const ours = execFileSync(tool, args, { encoding: "utf8" }).trim();

      const signer = new SignatureV4({
        credentials: cred, region, service: "s3", sha256: Sha256, uriEscapePath: true, applyChecksum: false,
      });
      const req = {
        method, protocol: "https:", hostname: host.split(":")[0], path, query: { ...query },
        headers: { host, "x-amz-content-sha256": hash, ...extra },
      };
      const signed = await signer.sign(req, { signingDate: date });
      const theirs = signed.headers.authorization ?? signed.headers.Authorization;
      n++;
      if (ours !== theirs) {
        failures++;
        console.error(`MISMATCH ${method} ${host} ${path} ${JSON.stringify(query)} ${JSON.stringify(extra)}\n  ours:   ${ours}\n  theirs: ${theirs}`);
      }
    }
  }
}
console.log(`SigV4: ${n - failures}/${n} signatures identical to @smithy/signature-v4`);
process.exit(failures ? 1 : 0);
