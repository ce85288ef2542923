import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { criInvalid, criNotFound } from '../cri/index.ts';

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * A content-addressed blob store: `<root>/blobs/sha256/<hex>`. Nothing enters without its
 * sha256 checked against the digest it claims, so a blob's name is a proof of its bytes.
 */
export class ContentStore {
  readonly #dir: string;

  constructor(root: string) {
    this.#dir = path.join(root, 'blobs', 'sha256');
    fs.mkdirSync(this.#dir, { recursive: true });
  }

  path(digest: string): string {
    if (!DIGEST.test(digest)) throw criInvalid(`bad digest ${digest}`);
    return path.join(this.#dir, digest.slice(7));
  }

  has(digest: string): boolean {
    return fs.existsSync(this.path(digest));
  }

  async read(digest: string): Promise<Buffer> {
    try {
      return await fsp.readFile(this.path(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw criNotFound(`blob ${digest}`);
      throw err;
    }
  }

  async size(digest: string): Promise<number> {
    return (await fsp.stat(this.path(digest))).size;
  }

  /** Stores bytes or a stream under `digest`, failing (and keeping nothing) if they do not hash to it. */
  async write(
    digest: string,
    data: Buffer | NodeJS.ReadableStream | AsyncIterable<Uint8Array>,
  ): Promise<void> {
    const target = this.path(digest);
    if (fs.existsSync(target)) {
      if (!Buffer.isBuffer(data)) for await (const _ of data as AsyncIterable<Uint8Array>); // drain
      return;
    }
    const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    const hash = createHash('sha256');
    try {
      if (Buffer.isBuffer(data)) {
        hash.update(data);
        await fsp.writeFile(tmp, data);
      } else {
        const out = fs.createWriteStream(tmp);
        await pipeline(
          data as AsyncIterable<Uint8Array>,
          async function* (src: AsyncIterable<Uint8Array>) {
            for await (const chunk of src) {
              hash.update(chunk);
              yield chunk;
            }
          },
          out,
        );
      }
      const actual = `sha256:${hash.digest('hex')}`;
      if (actual !== digest) throw criInvalid(`digest mismatch: expected ${digest}, got ${actual}`);
      await fsp.rename(tmp, target);
    } finally {
      await fsp.rm(tmp, { force: true });
    }
  }

  async remove(digest: string): Promise<void> {
    await fsp.rm(this.path(digest), { force: true });
  }

  list(): string[] {
    return fs
      .readdirSync(this.#dir)
      .filter((n) => !n.endsWith('.tmp'))
      .map((n) => `sha256:${n}`);
  }
}
