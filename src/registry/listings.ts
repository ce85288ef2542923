import { DIGEST_RE, MediaType } from './distribution.ts';
import { RegistryError } from './errors.ts';
import { type Ctx, sendJSON } from './http.ts';
import { descriptorOf } from './storage.ts';

/** GET /v2/<name>/tags/list?n=&last=: lexical order, a Link header when more remain. */
export async function listTags(c: Ctx): Promise<void> {
  if (!(await c.storage.repoExists(c.name))) {
    throw new RegistryError('NAME_UNKNOWN', `repository ${c.name} not known to registry`, { name: c.name });
  }
  let tags = await c.storage.listTags(c.name);
  const last = c.url.searchParams.get('last');
  if (last) tags = tags.filter((t) => t > last);
  const nParam = c.url.searchParams.get('n');
  const headers: Record<string, string> = {};
  if (nParam !== null) {
    const n = Number(nParam);
    if (!Number.isSafeInteger(n) || n < 0)
      throw new RegistryError('UNSUPPORTED', `invalid n=${nParam}`, undefined, 400);
    if (tags.length > n) {
      tags = tags.slice(0, n);
      if (n > 0) {
        const next = `/v2/${c.name}/tags/list?n=${n}&last=${encodeURIComponent(tags[n - 1])}`;
        headers.Link = `<${next}>; rel="next"`;
      }
    }
  }
  sendJSON(c.res, 200, { name: c.name, tags }, headers);
}

/** GET /v2/_catalog?n=&last=: repository names in lexical order, a Link header when more remain. */
export async function listCatalog(c: Omit<Ctx, 'name' | 'ref'>): Promise<void> {
  let names = await c.storage.listRepositories();
  const last = c.url.searchParams.get('last');
  if (last) names = names.filter((n) => n > last);
  const nParam = c.url.searchParams.get('n');
  const headers: Record<string, string> = {};
  if (nParam !== null) {
    const n = Number(nParam);
    if (!Number.isSafeInteger(n) || n < 0)
      throw new RegistryError('UNSUPPORTED', `invalid n=${nParam}`, undefined, 400);
    if (names.length > n) {
      names = names.slice(0, n);
      if (n > 0) headers.Link = `</v2/_catalog?n=${n}&last=${encodeURIComponent(names[n - 1])}>; rel="next"`;
    }
  }
  sendJSON(c.res, 200, { repositories: names }, headers);
}

/** GET /v2/<name>/referrers/<digest>?artifactType=: manifests whose subject is <digest>, as an index. */
export async function listReferrers(c: Ctx): Promise<void> {
  if (!DIGEST_RE.test(c.ref)) throw new RegistryError('DIGEST_INVALID', `invalid digest ${c.ref}`);
  const artifactType = c.url.searchParams.get('artifactType');
  let records = (await c.storage.listManifests(c.name)).filter((r) => r.subject === c.ref);
  const headers: Record<string, string> = {};
  if (artifactType) {
    records = records.filter((r) => r.artifactType === artifactType);
    headers['OCI-Filters-Applied'] = 'artifactType';
  }
  records.sort((a, b) => (a.digest < b.digest ? -1 : 1));
  const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: records.map(descriptorOf) };
  sendJSON(c.res, 200, index, { ...headers, 'Content-Type': MediaType.ociIndex });
}
